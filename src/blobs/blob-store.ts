/**
 * The blob store contract: content-addressed, durable storage of media bytes. Implemented on
 * the local disk (embedded default) and on any S3-compatible server; `test/blobs/conformance.ts`
 * runs the same suite against both.
 *
 * `put` hashes and counts the bytes as they stream through (memory does not grow with size) and
 * makes the blob visible only once it is complete, verified and durable: a failed or aborted put
 * leaves nothing behind under a final key. The same bytes are stored once. A body already in
 * memory may be given as one Buffer: the same checks, without a stream.
 */
import type { Readable } from 'node:stream'

export interface PutOptions {
  /** Abort with `too_large` once more bytes than this have arrived. */
  maxBytes?: number
  /** Lowercase hex; a mismatch fails the put with `integrity` and stores nothing. */
  expectedSha256?: string
  /** A mismatch fails the put with `integrity` and stores nothing. */
  expectedSize?: number
  /** Stored alongside where the backend supports it (S3 Content-Type). */
  contentType?: string
  signal?: AbortSignal
  /**
   * Runs once the blob's sha256 is known and before the store commits the bytes under its key or
   * decides they are already there (disk: before the durable rename; S3: before the PutObject of
   * a blob that fits in one part, before the multipart upload when the sha256 was declared, before
   * the copy otherwise). A rejection fails the put with that
   * error and commits nothing. The caller's chance to make the key safe from deletion first.
   */
  beforeCommit?: (sha256: string) => Promise<void>
}

export interface PutResult {
  key: string
  /** Lowercase hex. */
  sha256: string
  size: number
  /**
   * True when a blob with these bytes was already there (nothing new written). False when the
   * store wrote them, which S3 does for blobs that fit in one part even when they were there:
   * one PUT of identical bytes under their own key costs less than asking first.
   */
  existed: boolean
}

export interface BlobStat {
  key: string
  size: number
  /** When the blob was last written (disk: mtime; S3: LastModified); given by `list()`. */
  modifiedAt?: Date
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number
  end: number
}

export interface BlobStoreCapabilities {
  /** `presignGet` is available: clients can be redirected to the store itself. */
  presign: boolean
  /**
   * The operator asked for content to be served by redirecting clients to `presignGet` URLs
   * (S3 `redirect=true`: the store is reachable by clients) instead of streaming it through us.
   */
  redirect?: boolean
}

export interface BlobStore {
  /** `disk` or `s3`. */
  readonly kind: string
  readonly capabilities: BlobStoreCapabilities
  /** Prepares the store (directories, bucket check) and removes leftovers of interrupted puts. */
  init(): Promise<void>
  put(body: Readable | Buffer, options?: PutOptions): Promise<PutResult>
  stat(key: string): Promise<BlobStat | undefined>
  /** Throws `not_found` when absent. The stream ends after `range.end` when a range is given. */
  read(key: string, range?: ByteRange): Promise<Readable>
  /**
   * Optional, for small reads: exactly `length` bytes from offset `start`, in one buffer. Throws
   * `not_found` when absent and `storage` when the blob has fewer bytes there. Serving uses it
   * for small content, where a stream's machinery costs more than the bytes (see content-route.ts).
   */
  readBytes?(key: string, start: number, length: number): Promise<Buffer>
  /** Idempotent: deleting an absent key is not an error. */
  delete(key: string): Promise<void>
  list(): AsyncIterable<BlobStat>
  /** Only when `capabilities.presign`. */
  presignGet?(key: string, options: { expiresInSeconds: number; contentType?: string; contentDisposition?: string }): Promise<string>
  /**
   * Moves a blob that failed verification aside to `quarantine/<key>.<time>`, kept as evidence
   * but no longer served or listed, and returns that key. Throws `not_found` when absent.
   */
  quarantine?(key: string): Promise<string>
  /**
   * Copies a blob to `target`, a key under `quarantine/` (as `quarantine` names them), durably;
   * the blob stays where it is. `mediagate migrate-data` restores the quarantined evidence of
   * infected media under the key their records hold. Throws `not_found` when the blob is absent.
   * Only where `quarantine` is.
   */
  copyToQuarantine?(key: string, target: string): Promise<void>
  close(): Promise<void>
}

/** The key a blob with this sha256 has in every store: fan-out keeps directories small. */
export function blobKeyFor(sha256Hex: string): string {
  return `sha256/${sha256Hex.slice(0, 2)}/${sha256Hex.slice(2, 4)}/${sha256Hex}`
}
