/**
 * Paged listings over S3: the blobs under a prefix, and the leftovers of interrupted puts
 * (temporary objects, incomplete multipart uploads) that `init()` removes. Every loop stops when
 * the server stops returning a new continuation token, so a misbehaving server cannot spin us.
 */
import { AbortMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import type { Logger } from '../logging/logger.js'
import { toStorageError } from './s3-errors.js'

export interface ListedObject {
  key: string
  size: number
  lastModified: Date | undefined
}

export async function* listObjects(client: S3Client, bucket: string, prefix: string): AsyncIterable<ListedObject> {
  let token: string | undefined
  const seen = new Set<string>()
  for (;;) {
    const page = await client
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }))
      .catch((err: unknown) => {
        throw toStorageError(err, 'list')
      })
    for (const object of page.Contents ?? []) {
      if (object.Key) yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined
    if (!token || seen.has(token)) return
    seen.add(token)
  }
}

/**
 * Deletes temporary objects under `tmpPrefix` and aborts multipart uploads under `prefix` that
 * started before `olderThan`. Best effort: a failure is logged, not thrown, because a server
 * without ListMultipartUploads must not keep the gateway from starting.
 */
export async function removeStaleUploads(client: S3Client, bucket: string, prefix: string, tmpPrefix: string, olderThan: Date, logger?: Pick<Logger, 'warn'>): Promise<void> {
  try {
    for await (const object of listObjects(client, bucket, tmpPrefix)) {
      if (object.lastModified && object.lastModified < olderThan) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.key }))
      }
    }
  } catch (err) {
    logger?.warn({ err: toStorageError(err, 'cleanup of temporary objects') }, 'could not remove leftovers of interrupted puts')
  }
  try {
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    const seen = new Set<string>()
    for (;;) {
      const page = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          ...(prefix ? { Prefix: prefix } : {}),
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
        }),
      )
      for (const upload of page.Uploads ?? []) {
        if (upload.Key && upload.UploadId && upload.Initiated && upload.Initiated < olderThan) {
          await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }))
        }
      }
      if (!page.IsTruncated) return
      keyMarker = page.NextKeyMarker
      uploadIdMarker = page.NextUploadIdMarker
      const marker = `${keyMarker ?? ''}\n${uploadIdMarker ?? ''}`
      if (seen.has(marker)) return
      seen.add(marker)
    }
  } catch (err) {
    logger?.warn({ err: toStorageError(err, 'cleanup of multipart uploads') }, 'could not abort stale multipart uploads')
  }
}
