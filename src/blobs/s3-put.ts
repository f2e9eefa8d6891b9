/**
 * How a put reaches S3 and becomes visible only when complete and verified. Bytes are streamed
 * with lib-storage's multipart `Upload` (bounded part size and queue: memory holds about
 * (queueSize + 2) × partSize per put, 15 MiB by default), never the whole blob.
 *
 * Content addressing needs the sha256 before the final key exists. Two paths, chosen per put:
 * - The caller declared the sha256 (WhatsApp does): upload straight to the final key. The hashing
 *   stream checks sha256 and size before it signals the end of the body, and `Upload` commits
 *   (PutObject, or CompleteMultipartUpload) only after that end, so a mismatch aborts the upload
 *   and nothing ever appears under the key. No copy: half the server-side I/O. When the blob is
 *   already there, the bytes are verified and not sent at all.
 * - Otherwise (Messenger, Instagram): upload to a temporary key under `<prefix>.tmp/`, then
 *   CopyObject to the final key once the hash is known, then delete the temporary object.
 *   CopyObject is limited to 5 GB per object, far above our 100 MB default `maxBytes`.
 * The caller's `beforeCommit` runs before the final key is looked at: at the start on the first
 * path, between the temporary upload and the copy on the second.
 * A failed or aborted put aborts its multipart upload and deletes its temporary object (the frame
 * around every put, put-frame.ts, discards it); `init()` removes what a crash left behind. A
 * bucket lifecycle rule expiring `.tmp/` and incomplete multipart uploads after a day is a good
 * second line.
 */
import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import { CopyObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { Logger } from '../logging/logger.js'
import { pipe, pipeAsync } from '../util/pipe.js'
import { type BlobStat, blobKeyFor, type PutOptions } from './blob-store.js'
import type { HashingStream } from './hashing-stream.js'
import { nullSink } from './null-sink.js'
import type { PutAttempt } from './put-frame.js'
import { toStorageError } from './s3-errors.js'

export const TMP_PREFIX = '.tmp/'

/** What a put needs of its store. */
export interface S3PutTarget {
  client: S3Client
  bucket: string
  /** '' or ends with '/'. */
  prefix: string
  partSize: number
  queueSize: number
  logger: Pick<Logger, 'warn'> | undefined
  stat(key: string): Promise<BlobStat | undefined>
}

export class S3Put implements PutAttempt {
  /** The temporary object this put uploads to, until it is deleted. */
  private tmpKey: string | undefined

  constructor(private readonly target: S3PutTarget) {}

  write(body: Readable, hasher: HashingStream, options: PutOptions): Promise<boolean> {
    // Errors reach us through the upload reading `hasher`; the callback only keeps them handled.
    pipe([body, hasher], ignore)
    return hasher.expectedSha256 ? this.putKnown(hasher, hasher.expectedSha256, options) : this.putViaTemp(hasher, options)
  }

  discard(): Promise<void> {
    return this.deleteTemp()
  }

  private async putKnown(hasher: HashingStream, sha256: string, options: PutOptions): Promise<boolean> {
    const key = blobKeyFor(sha256)
    // The key is known before a byte is sent: made safe from deletion before "is it there?".
    await options.beforeCommit?.(sha256)
    const existing = options.expectedSize === undefined ? undefined : await this.target.stat(key)
    if (existing && existing.size === options.expectedSize) {
      // Let the bytes flow (the caller sniffs them, the hasher verifies them) but send none.
      await pipeAsync([hasher, nullSink()])
      return true
    }
    await this.upload(hasher, `${this.target.prefix}${key}`, options.contentType)
    return false
  }

  private async putViaTemp(hasher: HashingStream, options: PutOptions): Promise<boolean> {
    const { client, bucket, prefix } = this.target
    const tmpKey = `${prefix}${TMP_PREFIX}${randomUUID()}`
    this.tmpKey = tmpKey
    await this.upload(hasher, tmpKey, options.contentType)
    const sha256 = hasher.digest()
    await options.beforeCommit?.(sha256)
    const key = blobKeyFor(sha256)
    const existing = await this.target.stat(key)
    const existed = existing?.size === hasher.bytes
    if (!existed) {
      await client.send(new CopyObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, CopySource: copySource(bucket, tmpKey) })).catch((err: unknown) => {
        throw toStorageError(err, 'copy', key)
      })
    }
    await this.deleteTemp()
    return existed
  }

  private async upload(body: Readable, objectKey: string, contentType: string | undefined): Promise<void> {
    const job = new Upload({
      client: this.target.client,
      params: { Bucket: this.target.bucket, Key: objectKey, Body: body, ...(contentType ? { ContentType: contentType } : {}) },
      partSize: this.target.partSize,
      queueSize: this.target.queueSize,
      leavePartsOnError: false,
    })
    await job.done()
  }

  /** A failed delete is only logged: the blob (if any) is complete, and `init()` retries it. */
  private async deleteTemp(): Promise<void> {
    const tmpKey = this.tmpKey
    if (tmpKey === undefined) return
    this.tmpKey = undefined
    await this.target.client.send(new DeleteObjectCommand({ Bucket: this.target.bucket, Key: tmpKey })).catch((err: unknown) => {
      this.target.logger?.warn({ key: tmpKey, err: toStorageError(err, 'delete') }, 'could not delete a temporary object; init() will')
    })
  }
}

function ignore(): void {}

/** The `x-amz-copy-source` value: bucket and key, each key segment URL-encoded. */
export function copySource(bucket: string, objectKey: string): string {
  return `${bucket}/${objectKey.split('/').map(encodeURIComponent).join('/')}`
}
