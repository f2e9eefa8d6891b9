/**
 * Where the bytes of a sniffed source go. Every destination counts, hashes and checks them
 * against what Meta declared (HashingStream, inside the blob store's put or here), and none lets
 * a reader see a complete-looking body for bytes that failed verification (EndGate).
 * - toBlobStore: eager capture and `mediagate capture` (the bytes are stored, nothing else).
 * - toBlobStoreAndClient: lazy serving (one download, stored and streamed to the first client).
 * - toClientVerified: proxy serving and `mediagate fetch` (nothing stored).
 */
import { Readable } from 'node:stream'
import type { BlobStore, PutOptions, PutResult } from '../blobs/blob-store.js'
import { HashingStream } from '../blobs/hashing-stream.js'
import type { RemoteFacts, StoredOutcome } from '../catalog/catalog.js'
import { toMediagateError } from '../errors.js'
import { pipe } from '../util/pipe.js'
import { EndGate } from './end-gate.js'
import type { SniffedSource } from './sniffed-source.js'
import { type FollowerOptions, teeFollowing } from './tee.js'
import { inSpan } from '../tracing/index.js'

export interface StoreOptions {
  maxBytes: number
  signal: AbortSignal
  now?: () => Date
}

/** Streams the bytes (or puts the small body read whole) into the blob store; resolves once they are verified and durable there. */
export async function toBlobStore(source: SniffedSource<Readable | Buffer>, blobs: BlobStore, options: StoreOptions): Promise<StoredOutcome> {
  const put = await inSpan('blob.put', () => blobs.put(source.body, putOptions(source, options)))
  return storedOutcome(source, put, options)
}

export interface StoreAndClientOptions extends StoreOptions {
  /** How far the client may fall behind the store before it gets the rest from the stored blob. */
  client: Pick<FollowerOptions, 'maxLagBytes'>
}

/**
 * One download to the blob store and to a client, at the pace of the store: a client that falls
 * behind (or stops reading) never holds the download; it gets the bytes it missed from the blob
 * once that is stored (teeFollowing). `settle` runs once the blob is verified and durable (it marks
 * the record stored); the client's stream ends only after it succeeded, and is cut short if the
 * put or the settlement fails.
 */
export function toBlobStoreAndClient<T>(
  source: SniffedSource,
  blobs: BlobStore,
  options: StoreAndClientOptions,
  settle: (stored: StoredOutcome) => Promise<T>,
): { client: Readable; done: Promise<T> } {
  // Assigned below, before the source flows: `rest` is only asked from a 'data' event.
  let put!: Promise<PutResult>
  let done!: Promise<T>
  const rest = async (offset: number) => {
    await done
    return restOfBlob(blobs, await put, offset)
  }
  const { leader, follower } = teeFollowing(source.body, { ...options.client, rest })
  put = blobs.put(leader, putOptions(source, options))
  done = put.then((stored) => settle(storedOutcome(source, stored, options)))
  const client = new EndGate(() => done)
  pipe([follower, client], () => {})
  done.catch((err: unknown) => client.destroy(toMediagateError(err)))
  return { client, done }
}

export interface VerifyOptions {
  maxBytes: number
  /** Overrides what the source declared (proxy: what an earlier pass verified). */
  expectedSha256?: string | undefined
  expectedSize?: number | undefined
  /** Runs once every byte passed and matched, before the reader sees the end. */
  onVerified?: (facts: RemoteFacts) => Promise<void>
  /** Observes a failure (integrity, too_large, a broken source); the reader's stream errors too. */
  onError?: (err: Error) => void
}

/** The bytes for a reader only, hashed and checked on the way; nothing is stored. */
export function toClientVerified(source: SniffedSource, options: VerifyOptions): Readable {
  const hashing = new HashingStream({
    maxBytes: options.maxBytes,
    expectedSha256: options.expectedSha256 ?? source.opened.expectedSha256,
    expectedSize: options.expectedSize ?? source.opened.expectedSize,
  })
  const gate = new EndGate(async () => {
    await options.onVerified?.({ sha256: hashing.digest(), size: hashing.bytes, sniffedMime: source.sniffedMime, mimeType: source.servedType })
  })
  pipe([source.body, hashing, gate], (err) => {
    if (err) options.onError?.(err)
  })
  return gate
}

function putOptions(source: Pick<SniffedSource, 'opened'>, options: StoreOptions): PutOptions {
  const { opened } = source
  return {
    maxBytes: options.maxBytes,
    ...(opened.expectedSha256 ? { expectedSha256: opened.expectedSha256 } : {}),
    ...(opened.expectedSize !== undefined ? { expectedSize: opened.expectedSize } : {}),
    ...(opened.declaredMime ? { contentType: opened.declaredMime } : {}),
    signal: options.signal,
  }
}

function storedOutcome(source: Pick<SniffedSource, 'opened' | 'sniffedMime' | 'servedType'>, put: { key: string; sha256: string; size: number }, options: StoreOptions): StoredOutcome {
  return {
    status: 'stored',
    sha256: put.sha256,
    size: put.size,
    blobKey: put.key,
    sniffedMime: source.sniffedMime,
    mimeType: source.servedType,
    storedAt: options.now?.() ?? new Date(),
    ...(source.opened.refetched ? { refetchedAt: options.now?.() ?? new Date() } : {}),
  }
}

/** The blob from `offset` to its end (nothing when the reader already had every byte). */
async function restOfBlob(blobs: BlobStore, put: Pick<PutResult, 'key' | 'size'>, offset: number): Promise<Readable> {
  if (offset >= put.size) return Readable.from([])
  return blobs.read(put.key, { start: offset, end: put.size - 1 })
}
