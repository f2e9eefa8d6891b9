/**
 * The blob store on any S3-compatible server (AWS, R2, B2, Ceph, Swift, MinIO): one object per
 * blob at `<prefix><key>`. How puts stream up and commit is in s3-put.ts; this file is the rest
 * of the contract (stat, ranged reads, delete, list, presigned URLs, quarantine) and the
 * start-up check and cleanup.
 */
import { Readable } from 'node:stream'
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { BlobStat, BlobStore, ByteRange, PutOptions, PutResult } from './blob-store.js'
import { assertQuarantineKey, BLOB_PREFIX, quarantineKeyFor } from './keys.js'
import { assertSafeKey } from './path-guard.js'
import { checkRange } from './range.js'
import { createS3Client, type S3ConnectionOptions } from './s3-client.js'
import { type DirectPut, prepareDirectPut } from './s3-direct-put.js'
import { isS3NotFound, s3ErrorName, toStorageError } from './s3-errors.js'
import { listObjects, removeStaleUploads } from './s3-listing.js'
import { type PutFrameStore, runPut } from './put-frame.js'
import { copySource, S3Put, TMP_PREFIX } from './s3-put.js'

export interface S3BlobStoreOptions extends S3ConnectionOptions {
  bucket: string
  /** Key prefix inside the bucket, e.g. `media` → `media/sha256/…`; empty for the bucket root. */
  prefix?: string
  /** A client to use instead of building one from the connection options; the caller closes it. */
  client?: S3Client
  /** Declare that content may be served by redirecting clients to presigned URLs. Default false. */
  redirect?: boolean
  /** Multipart part size in bytes; S3's minimum and our default is 5 MiB. */
  partSize?: number
  /**
   * Parts uploaded in parallel per put. Default 1: the worker already runs many captures at once,
   * and each extra part in flight costs another `partSize` of memory per capture.
   */
  queueSize?: number
  /** `init()` removes temporary objects and multipart uploads older than this. Default 1 hour. */
  staleAfterMs?: number
  logger?: Pick<Logger, 'warn'>
}

const MIN_PART_SIZE = 5 * 1024 * 1024

export class S3BlobStore implements BlobStore {
  readonly kind = 's3'
  readonly capabilities: { presign: boolean; redirect: boolean }
  readonly bucket: string
  /** '' or ends with '/'. */
  readonly prefix: string
  private readonly client: S3Client
  private readonly ownsClient: boolean
  private readonly staleAfterMs: number
  private readonly logger: Pick<Logger, 'warn'> | undefined
  private readonly puts: PutFrameStore
  private direct: Promise<DirectPut | undefined> | undefined

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '')
    this.prefix = prefix === '' ? '' : `${assertSafeKey(prefix)}/`
    this.client = options.client ?? createS3Client(options)
    this.ownsClient = options.client === undefined
    this.staleAfterMs = options.staleAfterMs ?? 60 * 60 * 1000
    this.logger = options.logger
    this.capabilities = { presign: true, redirect: options.redirect ?? false }
    const target = {
      client: this.client,
      bucket: this.bucket,
      prefix: this.prefix,
      partSize: Math.max(MIN_PART_SIZE, options.partSize ?? MIN_PART_SIZE),
      queueSize: Math.max(1, options.queueSize ?? 1),
      logger: this.logger,
      // A put asks only to skip re-sending a large blob: a 404 of the moment below costs a re-send, nothing more.
      stat: (key: string) => this.head(key),
      directPut: () => this.directPut(),
    }
    this.puts = { begin: () => new S3Put(target), mapError: (err) => toStorageError(err, 'upload') }
  }

  /** Checks the bucket, then removes leftovers of interrupted puts older than `staleAfterMs`. */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }))
    } catch (err) {
      // HEAD has no body, so a missing bucket is a bare 404, which the mapping reads as a key.
      if (isS3NotFound(err) || s3ErrorName(err) === 'NoSuchBucket') {
        throw new MediagateError('invalid_config', `the S3 bucket ${this.bucket} does not exist (create it first)`, { cause: err })
      }
      throw toStorageError(err, 'bucket check')
    }
    const olderThan = new Date(Date.now() - this.staleAfterMs)
    await removeStaleUploads(this.client, this.bucket, this.prefix, `${this.prefix}${TMP_PREFIX}`, olderThan, this.logger)
  }

  /** Prepared once; if preparing fails the SDK's PutObject is used, and reports the error itself. */
  private directPut(): Promise<DirectPut | undefined> {
    this.direct ??= prepareDirectPut(this.client, this.bucket).catch(() => undefined)
    return this.direct
  }

  put(body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    return runPut(body, options, this.puts)
  }

  /**
   * A blob is written again whole when the same small bytes are captured again (s3-put.ts).
   * Swift's object server can answer a request that lands during that overwrite with 404: it
   * listed the old copy, which the PUT's cleanup removed before the request opened it. By then the
   * new copy is in place, so whatever would act on "missing" (a read, a stat, a quarantine copy)
   * asks once more; a blob truly gone stays missing, at the cost of one more round trip.
   */
  async stat(key: string): Promise<BlobStat | undefined> {
    return (await this.head(key)) ?? (await this.head(key))
  }

  private async head(key: string): Promise<BlobStat | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }))
      return { key, size: head.ContentLength ?? 0 }
    } catch (err) {
      if (isS3NotFound(err)) return undefined
      throw toStorageError(err, 'stat', key)
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    if (range) checkRange(range)
    return askAgainIfMissing(() => this.get(key, range))
  }

  private async get(key: string, range: ByteRange | undefined): Promise<Readable> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
    })
    try {
      const out = await this.client.send(command)
      if (!(out.Body instanceof Readable)) throw new MediagateError('storage', `S3 read of ${key} returned no stream`)
      return out.Body
    } catch (err) {
      if (s3ErrorName(err) === 'InvalidRange') {
        throw new MediagateError('bad_request', `range ${range?.start}-${range?.end} is past the end of ${key}`, { status: 416, cause: err })
      }
      throw toStorageError(err, 'read', key)
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }))
    } catch (err) {
      if (isS3NotFound(err)) return
      throw toStorageError(err, 'delete', key)
    }
  }

  /** The content-addressed blobs (`sha256/…`) with their LastModified; temporary and quarantined objects are not listed. */
  async *list(): AsyncIterable<BlobStat> {
    for await (const object of listObjects(this.client, this.bucket, `${this.prefix}${BLOB_PREFIX}`)) {
      yield { key: object.key.slice(this.prefix.length), size: object.size, ...(object.lastModified ? { modifiedAt: object.lastModified } : {}) }
    }
  }

  async presignGet(key: string, options: { expiresInSeconds: number; contentType?: string; contentDisposition?: string }): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ...(options.contentType ? { ResponseContentType: options.contentType } : {}),
      ...(options.contentDisposition ? { ResponseContentDisposition: options.contentDisposition } : {}),
    })
    try {
      return await getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds })
    } catch (err) {
      throw toStorageError(err, 'presign', key)
    }
  }

  /** Copies the blob to `quarantine/<key>.<time>`, then deletes the original; see BlobStore. */
  async quarantine(key: string): Promise<string> {
    if (!(await this.stat(key))) throw new MediagateError('not_found', `no blob ${key}`)
    const target = quarantineKeyFor(key)
    await this.copyWithin(key, target)
    await this.delete(key)
    return target
  }

  /** Copies the blob to the quarantine key `target`, server-side; see BlobStore. */
  async copyToQuarantine(key: string, target: string): Promise<void> {
    assertQuarantineKey(target)
    if (!(await this.stat(key))) throw new MediagateError('not_found', `no blob ${key}`)
    await this.copyWithin(key, target)
  }

  /** A server-side copy of a blob to a quarantine key. */
  private async copyWithin(key: string, target: string): Promise<void> {
    await askAgainIfMissing(async () => {
      try {
        await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.objectKey(target), CopySource: copySource(this.bucket, this.objectKey(key)) }))
      } catch (err) {
        throw toStorageError(err, 'quarantine copy', key)
      }
    })
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy()
  }

  /** Every key from outside passes the path guard before it becomes an object key. */
  private objectKey(key: string): string {
    return `${this.prefix}${assertSafeKey(key)}`
  }
}

/** `op` once more after a `not_found`: Swift's moment of 404 mid-overwrite (S3BlobStore.stat). */
async function askAgainIfMissing<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (err) {
    if (!(err instanceof MediagateError && err.code === 'not_found')) throw err
    return op()
  }
}
