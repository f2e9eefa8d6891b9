/**
 * What the S3 benchmarks share: the S3 test server's keys (scripts/s3-test-server.sh, Swift
 * tempauth user test:tester), a bucket of their own for one run, removed afterwards, and the
 * environment that points a gateway child at it.
 */
import { randomBytes } from 'node:crypto'
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { listObjects } from '../../src/blobs/s3-listing.js'
import { S3_ENDPOINT } from '../../test/helpers/services.js'

export const S3_CREDENTIALS = { accessKeyId: 'test:tester', secretAccessKey: 'testing' }
export const S3_REGION = 'us-east-1'

export interface BenchBucket {
  name: string
  /** Empties and deletes the bucket. */
  remove(): Promise<void>
}

/** A new bucket named `<prefix>-<time>-<random>`. */
export async function createBenchBucket(client: S3Client, prefix: string): Promise<BenchBucket> {
  const name = `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  await client.send(new CreateBucketCommand({ Bucket: name }))
  return {
    name,
    // Swift deletes only empty buckets, and DeleteObjects needs a Content-MD5 the SDK no longer sends.
    async remove() {
      const keys: string[] = []
      for await (const o of listObjects(client, name, '')) keys.push(o.key)
      let next = 0
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = next++; i < keys.length; i = next++) await client.send(new DeleteObjectCommand({ Bucket: name, Key: keys[i] }))
        }),
      )
      await client.send(new DeleteBucketCommand({ Bucket: name }))
    },
  }
}

/** A gateway on `databaseUrl` storing its blobs under `media/` in `bucket` of the S3 test server. */
export function s3GatewayEnv(bucket: string, databaseUrl: string): Record<string, string> {
  return {
    MEDIAGATE_DATABASE_URL: databaseUrl,
    MEDIAGATE_STORAGE_URL: `s3://${bucket}/media`,
    MEDIAGATE_S3_ENDPOINT: S3_ENDPOINT,
    MEDIAGATE_S3_REGION: S3_REGION,
    AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
  }
}
