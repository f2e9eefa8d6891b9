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
 * A failed or aborted put aborts its multipart upload and deletes its temporary object; `init()`
 * removes what a crash left behind. A bucket lifecycle rule expiring `.tmp/` and incomplete
 * multipart uploads after a day is a good second line.
 */
import { randomUUID } from 'node:crypto'
import { pipeline, type Readable } from 'node:stream'
import { pipeline as pipelineAsync } from 'node:stream/promises'
import { CopyObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { Logger } from '../logging/logger.js'
import { type BlobStat, blobKeyFor, type PutOptions, type PutResult } from './blob-store.js'
import { HashingStream, normalizeExpectedSha256 } from './hashing-stream.js'
import { nullSink } from './null-sink.js'
import { abortedError, putFailure, watchSource } from './put-failure.js'
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

export async function putToS3(target: S3PutTarget, body: Readable, options: PutOptions): Promise<PutResult> {
  const { signal } = options
  if (signal?.aborted) {
    body.destroy()
    throw abortedError(signal)
  }
  let hasher: HashingStream
  let expectedSha256: string | undefined
  try {
    expectedSha256 = normalizeExpectedSha256(options.expectedSha256)
    hasher = new HashingStream(options)
  } catch (err) {
    body.destroy()
    throw err
  }
  const source = watchSource(body)
  // Errors reach us through the upload reading `hasher`; the callback only keeps them handled.
  pipeline(body, hasher, () => {})
  // Ending the body is the one abort that lets in-flight requests settle and the multipart be
  // aborted before `done()` returns (Upload.abort() rejects at once and leaves them running).
  const onAbort = () => hasher.destroy(signal ? abortedError(signal) : undefined)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return expectedSha256 ? await putKnown(target, hasher, expectedSha256, options) : await putViaTemp(target, hasher, options)
  } catch (err) {
    hasher.destroy()
    throw putFailure(err, source, signal, (e) => toStorageError(e, 'upload'))
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

async function putKnown(target: S3PutTarget, hasher: HashingStream, sha256: string, options: PutOptions): Promise<PutResult> {
  const key = blobKeyFor(sha256)
  const existing = options.expectedSize === undefined ? undefined : await target.stat(key)
  if (existing && existing.size === options.expectedSize) {
    // Let the bytes flow (the caller sniffs them, the hasher verifies them) but send none.
    await pipelineAsync(hasher, nullSink())
    return { key, sha256, size: hasher.bytes, existed: true }
  }
  await upload(target, hasher, `${target.prefix}${key}`, options.contentType)
  return { key, sha256, size: hasher.bytes, existed: false }
}

async function putViaTemp(target: S3PutTarget, hasher: HashingStream, options: PutOptions): Promise<PutResult> {
  const { client, bucket, prefix } = target
  const tmpKey = `${prefix}${TMP_PREFIX}${randomUUID()}`
  try {
    await upload(target, hasher, tmpKey, options.contentType)
    const sha256 = hasher.digest()
    const key = blobKeyFor(sha256)
    const existing = await target.stat(key)
    if (existing?.size === hasher.bytes) return { key, sha256, size: hasher.bytes, existed: true }
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, CopySource: copySource(bucket, tmpKey) })).catch((err: unknown) => {
      throw toStorageError(err, 'copy', key)
    })
    return { key, sha256, size: hasher.bytes, existed: false }
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: tmpKey })).catch((err: unknown) => {
      target.logger?.warn({ key: tmpKey, err: toStorageError(err, 'delete') }, 'could not delete a temporary object; init() will')
    })
  }
}

async function upload(target: S3PutTarget, body: Readable, objectKey: string, contentType: string | undefined): Promise<void> {
  const job = new Upload({
    client: target.client,
    params: { Bucket: target.bucket, Key: objectKey, Body: body, ...(contentType ? { ContentType: contentType } : {}) },
    partSize: target.partSize,
    queueSize: target.queueSize,
    leavePartsOnError: false,
  })
  await job.done()
}

/** The `x-amz-copy-source` value: bucket and key, each key segment URL-encoded. */
export function copySource(bucket: string, objectKey: string): string {
  return `${bucket}/${objectKey.split('/').map(encodeURIComponent).join('/')}`
}
