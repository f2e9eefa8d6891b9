import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { DiskBlobStore } from '../../src/blobs/disk-blob-store.js'
import { openBlobStore } from '../../src/blobs/open-blob-store.js'
import { S3BlobStore } from '../../src/blobs/s3-blob-store.js'
import { MediagateError } from '../../src/errors.js'
import { S3_TEST_CONNECTION, useTestBucket } from '../helpers/s3.js'
import { s3Available } from '../helpers/services.js'

async function expectInvalid(url: string, pattern?: RegExp) {
  const err = await openBlobStore(url).catch((e: unknown) => e)
  expect(err, url).toBeInstanceOf(MediagateError)
  expect((err as MediagateError).code).toBe('invalid_config')
  if (pattern) expect((err as MediagateError).message).toMatch(pattern)
  return err as MediagateError
}

describe('openBlobStore: file:', () => {
  it('opens absolute, relative and file:// URLs as disk stores', async () => {
    const abs = await openBlobStore('file:/var/lib/mediagate/blobs')
    expect(abs).toBeInstanceOf(DiskBlobStore)
    expect((abs as DiskBlobStore).root).toBe('/var/lib/mediagate/blobs')
    expect(((await openBlobStore('file:data/blobs')) as DiskBlobStore).root).toBe(path.resolve('data/blobs'))
    expect(((await openBlobStore('file:/my data/blobs')) as DiskBlobStore).root).toBe('/my data/blobs')
    expect(((await openBlobStore('file:///my%20data/blobs')) as DiskBlobStore).root).toBe('/my data/blobs')
    expect((await openBlobStore(' file:/x ')).kind).toBe('disk')
  })

  it('opens a working store', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'mediagate-open-'))
    try {
      const store = await openBlobStore(`file:${root}`)
      await store.init()
      const put = await store.put(Readable.from([Buffer.from('opened')]))
      expect(await store.stat(put.key)).toEqual({ key: put.key, size: 6 })
      await store.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('refuses an empty path and unknown schemes', async () => {
    await expectInvalid('file:', /needs a directory/)
    await expectInvalid('/var/lib/blobs', /file: or s3:/)
    await expectInvalid('gs://bucket', /file: or s3:/)
  })
})

describe('openBlobStore: s3://', () => {
  it('reads bucket, prefix and options from the URL; code options win', async () => {
    const store = (await openBlobStore('s3://media-bucket/a/b/?endpoint=http://127.0.0.1:8089&region=eu-west-1&redirect=true')) as S3BlobStore
    expect(store).toBeInstanceOf(S3BlobStore)
    expect(store.bucket).toBe('media-bucket')
    expect(store.prefix).toBe('a/b/')
    expect(store.capabilities).toEqual({ presign: true, redirect: true })
    await store.close()
    const plain = (await openBlobStore('s3://media-bucket', { redirect: false })) as S3BlobStore
    expect(plain.prefix).toBe('')
    expect(plain.capabilities.redirect).toBe(false)
    await plain.close()
    const overridden = (await openBlobStore('s3://media-bucket?redirect=true', { redirect: false })) as S3BlobStore
    expect(overridden.capabilities.redirect).toBe(false)
    await overridden.close()
  })

  it('refuses credentials in the URL without repeating them', async () => {
    const err = await expectInvalid('s3://AKIAEXAMPLE:topsecret@bucket/prefix', /must not contain credentials/)
    expect(err.message).not.toContain('topsecret')
    expect(err.message).not.toContain('AKIAEXAMPLE')
  })

  it('refuses bad bucket names, unknown options, bad flags and hostile prefixes', async () => {
    await expectInvalid('s3://a/prefix', /bucket name/)
    await expectInvalid('s3://bucket?endpont=http://x', /unknown option endpont/)
    await expectInvalid('s3://bucket?redirect=yes', /redirect must be true or false/)
    await expect(openBlobStore('s3://bucket/../x')).resolves.toBeInstanceOf(S3BlobStore) // URL parsing removes the dot segments
    await expect(openBlobStore('s3://bucket/%2e%2e/x')).resolves.toBeInstanceOf(S3BlobStore)
    await expectInvalid('s3://bucket/a%00b', /prefix must be/)
    await expectInvalid('s3://bucket/.tmp', /prefix must be/)
  })
})

const available = await s3Available()

describe.skipIf(!available)('openBlobStore: s3:// against the S3 test server', () => {
  const bucket = useTestBucket('open')

  it('round-trips a blob through a store opened from a URL', async () => {
    const store = await openBlobStore(`s3://${bucket.name}/opened?endpoint=${S3_TEST_CONNECTION.endpoint}&forcePathStyle=true&region=us-east-1`, {
      credentials: S3_TEST_CONNECTION.credentials,
    })
    try {
      await store.init()
      const put = await store.put(Readable.from([Buffer.from('via url')]))
      expect(await store.stat(put.key)).toEqual({ key: put.key, size: 7 })
    } finally {
      await store.close()
    }
  })
})
