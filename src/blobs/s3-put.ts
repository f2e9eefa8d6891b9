/**
 * How a put reaches S3 and becomes visible only when complete and verified.
 *
 * A put first reads up to one part (`partSize`, 5 MiB by default) of its body into memory, as
 * lib-storage would before its first request anyway. Then:
 * - The body ended within that (photos, voice notes, most media): its sha256 is known and
 *   verified, so it is one PutObject of that buffer straight to the final key (signed and sent
 *   without the SDK's middleware stack, s3-direct-put.ts), carrying the sha256 as `x-amz-content-sha256`, which S3 (and Swift) check against the bytes received before
 *   they store anything. There is no existence check: a PUT of the same bytes under the key their
 *   sha256 names replaces the blob with an identical one (readers see the old or the new object,
 *   never a part) and costs one round trip where asking first costs two. Not quite atomic on
 *   Swift: a GET in the middle of the overwrite can answer 404 for a moment, so `read` asks once
 *   more after a 404 (s3-blob-store.ts). Such a put reports `existed: false` even when the blob
 *   was there. A conditional PUT (`If-None-Match: *`) would tell, but not every S3-compatible
 *   server takes one: Swift's s3api answers it 501.
 * - Larger: streamed with lib-storage's multipart `Upload` (bounded part size and queue: memory
 *   holds about (queueSize + 2) × partSize per put, 15 MiB by default), never the whole blob.
 *   When the caller declared the sha256 (WhatsApp does), straight to the final key: the hashing
 *   stream checks sha256 and size before it signals the end of the body, and `Upload` completes
 *   the multipart upload only after that end, so a mismatch aborts the upload and nothing
 *   appears under the key (a blob already there stays as it was). When the blob is already
 *   there, the bytes are verified and not sent at all: one round trip against megabytes.
 *   Otherwise (Messenger, Instagram): to a temporary key under `<prefix>.tmp/`, then CopyObject
 *   to the final key once the hash is known (unless the blob is there), then the temporary
 *   object is deleted. CopyObject is limited to 5 GB, far above our 100 MB default `maxBytes`.
 * The caller's `beforeCommit` runs once the sha256 is known and before the final key is written
 * or looked at: before the PutObject, before the multipart upload when the sha256 was declared,
 * between the temporary upload and the copy otherwise.
 * A failed or aborted put aborts its multipart upload and deletes its temporary object (the frame
 * around every put, put-frame.ts, discards it); `init()` removes what a crash left behind. A
 * bucket lifecycle rule expiring `.tmp/` and incomplete multipart uploads after a day is a good
 * second line.
 */
import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { Logger } from '../logging/logger.js'
import { pipe, pipeAsync } from '../util/pipe.js'
import { type BlobStat, blobKeyFor, type PutOptions } from './blob-store.js'
import type { HashingStream } from './hashing-stream.js'
import { nullSink } from './null-sink.js'
import type { PutAttempt } from './put-frame.js'
import { type BodyHead, readHead, rejoin } from './s3-body-head.js'
import type { DirectPut } from './s3-direct-put.js'
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
  /** The whole-body PUT without the SDK's middleware (s3-direct-put.ts), or undefined to use the SDK. */
  directPut(): Promise<DirectPut | undefined>
}

export class S3Put implements PutAttempt {
  /** The temporary object this put uploads to, until it is deleted. */
  private tmpKey: string | undefined

  constructor(private readonly target: S3PutTarget) {}

  async write(body: Readable | Buffer, hasher: HashingStream, options: PutOptions): Promise<boolean> {
    // A whole buffer has passed the hasher already: one PutObject of it, as for a body that ended within a part.
    if (Buffer.isBuffer(body)) {
      await this.putWhole({ chunks: [body], bytes: body.length, ended: true }, hasher.digest(), options)
      return false
    }
    // Errors reach us through `hasher` (read below, or by the upload); the callback only keeps them handled.
    pipe([body, hasher], ignore)
    const head = await readHead(hasher, this.target.partSize)
    if (head.ended) {
      await this.putWhole(head, hasher.digest(), options)
      return false
    }
    const rest = rejoin(head, hasher)
    return hasher.expectedSha256 ? this.putKnown(rest, hasher.expectedSha256, options) : this.putViaTemp(rest, hasher, options)
  }

  discard(): Promise<void> {
    return this.deleteTemp()
  }

  private async putWhole(head: BodyHead, sha256: string, options: PutOptions): Promise<void> {
    const key = blobKeyFor(sha256)
    await options.beforeCommit?.(sha256)
    const body = head.chunks.length === 1 ? head.chunks[0]! : Buffer.concat(head.chunks, head.bytes)
    const objectKey = `${this.target.prefix}${key}`
    const direct = await this.target.directPut()
    const sent = direct
      ? direct(objectKey, body, sha256, options.contentType)
      : this.target.client.send(this.sdkPut(objectKey, body, sha256, options.contentType)).then(() => undefined)
    await sent.catch((err: unknown) => {
      throw toStorageError(err, 'put', key)
    })
  }

  /** The same PUT through the SDK, for endpoints the direct put does not handle. */
  private sdkPut(objectKey: string, body: Buffer, sha256: string, contentType: string | undefined): PutObjectCommand {
    const command = new PutObjectCommand({
      Bucket: this.target.bucket,
      Key: objectKey,
      Body: body,
      ContentLength: body.length,
      ...(contentType ? { ContentType: contentType } : {}),
    })
    // The SDK would hash the body again to sign it; ours is the verified one, and the server
    // refuses the PUT (BadDigest) unless the bytes it received hash to it.
    command.middlewareStack.add(
      (next) => (args) => {
        ;(args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = sha256
        return next(args)
      },
      { step: 'build', name: 'mediagateContentSha256' },
    )
    return command
  }

  private async putKnown(rest: Readable, sha256: string, options: PutOptions): Promise<boolean> {
    const key = blobKeyFor(sha256)
    await options.beforeCommit?.(sha256)
    const existing = options.expectedSize === undefined ? undefined : await this.target.stat(key)
    if (existing && existing.size === options.expectedSize) {
      // Let the bytes flow (the caller sniffs them, the hasher verifies them) but send none.
      await pipeAsync([rest, nullSink()])
      return true
    }
    await this.upload(rest, `${this.target.prefix}${key}`, options.contentType)
    return false
  }

  private async putViaTemp(rest: Readable, hasher: HashingStream, options: PutOptions): Promise<boolean> {
    const { client, bucket, prefix } = this.target
    const tmpKey = `${prefix}${TMP_PREFIX}${randomUUID()}`
    this.tmpKey = tmpKey
    await this.upload(rest, tmpKey, options.contentType)
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
