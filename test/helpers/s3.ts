/**
 * The S3 test server (scripts/s3-test-server.sh: Swift + s3api on 127.0.0.1:8089) as the suites
 * use it: a client with the server's test keys, and a uniquely named bucket per test file,
 * emptied and removed after the file's tests. Gate suites on `s3Available()` (services.ts).
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll } from 'vitest'
import { createS3Client } from '../../src/blobs/s3-client.js'
import { S3_ENDPOINT } from './services.js'

/** The keys scripts/s3-test-server.sh configures (Swift tempauth user test:tester). */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'test:tester', secretAccessKey: 'testing' }
export const S3_TEST_REGION = 'us-east-1'

export const S3_TEST_CONNECTION = {
  endpoint: S3_ENDPOINT,
  region: S3_TEST_REGION,
  forcePathStyle: true,
  credentials: S3_TEST_CREDENTIALS,
}

/** Emptying a bucket after a file's tests: DELETEs in flight at once, and how long it may take (bounded by the objects a file leaves, at most 100 pages of them, not by a minute). */
const DELETES_AT_ONCE = 16
const EMPTYING_TIMEOUT_MS = 300_000

export function testS3Client(): S3Client {
  return createS3Client(S3_TEST_CONNECTION)
}

export interface TestBucket {
  /** Set once `beforeAll` has run. */
  name: string
  client: S3Client
}

/** A name S3 accepts (lowercase, 3–63 chars) that no other file or run will pick. */
export function uniqueBucketName(label: string): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 20)
  return `mg-${clean}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

/** Registers beforeAll/afterAll hooks that create the bucket and then empty and remove it. */
export function useTestBucket(label: string): TestBucket {
  const bucket: TestBucket = { name: '', client: undefined as unknown as S3Client }
  beforeAll(async () => {
    bucket.client = testS3Client()
    bucket.name = uniqueBucketName(label)
    await bucket.client.send(new CreateBucketCommand({ Bucket: bucket.name }))
  })
  afterAll(async () => {
    if (!bucket.name) return
    try {
      await emptyBucket(bucket.client, bucket.name)
      await bucket.client.send(new DeleteBucketCommand({ Bucket: bucket.name }))
    } finally {
      bucket.client.destroy()
    }
  }, EMPTYING_TIMEOUT_MS)
  return bucket
}

/** Every object key under `prefix` (bounded: test buckets hold a few hundred objects at most). */
export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  for (let page = 0; page < 100; page++) {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }))
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key)
    token = out.IsTruncated ? out.NextContinuationToken : undefined
    if (!token) return keys
  }
  throw new Error(`more than 100 pages of objects in test bucket ${bucket}`)
}

/** Multipart uploads still open under `prefix`: a failed put must leave none. */
export async function listOpenUploads(client: S3Client, bucket: string, prefix = ''): Promise<{ key: string; uploadId: string }[]> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }))
  return (out.Uploads ?? []).flatMap((u) => (u.Key && u.UploadId ? [{ key: u.Key, uploadId: u.UploadId }] : []))
}

// One DELETE per object (DeleteObjects needs a Content-MD5 that recent SDKs no longer send and
// Swift still wants), several at once: one after the other, a bucket of a few hundred objects
// took over a minute on a loaded two-core machine.
async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  for (const upload of await listOpenUploads(client, bucket)) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }))
  }
  const keys = await listKeys(client, bucket)
  for (let i = 0; i < keys.length; i += DELETES_AT_ONCE) {
    await Promise.all(keys.slice(i, i + DELETES_AT_ONCE).map((key) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))))
  }
}

