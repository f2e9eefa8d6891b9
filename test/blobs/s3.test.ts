import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { quarantineKeyFor } from '../../src/blobs/keys.js'
import { S3BlobStore } from '../../src/blobs/s3-blob-store.js'
import { MediagateError } from '../../src/errors.js'
import { listKeys, listOpenUploads, S3_TEST_CONNECTION, testS3Client, useTestBucket } from '../helpers/s3.js'
import { s3Available } from '../helpers/services.js'
import { blobStoreConformance } from './conformance.js'
import { readAll, sampleBytes, sha256 } from './fixtures.js'

const available = await s3Available()

interface WireRequest {
  method: string
  query?: Record<string, unknown>
  headers: Record<string, string>
  body?: unknown
}

/** The S3 operation a request on the wire is, for the few the tests look for. */
function operationOf(r: WireRequest): string {
  const q = r.query ?? {}
  if (r.method === 'HEAD') return 'HeadObject'
  if (r.method === 'GET') return 'GetObject'
  if (r.method === 'DELETE') return 'uploadId' in q ? 'AbortMultipartUpload' : 'DeleteObject'
  if (r.method === 'POST') return 'uploads' in q ? 'CreateMultipartUpload' : 'CompleteMultipartUpload'
  if ('uploadId' in q) return 'UploadPart'
  return Object.keys(r.headers).some((h) => h.toLowerCase() === 'x-amz-copy-source') ? 'CopyObject' : 'PutObject'
}

describe.skipIf(!available)('S3BlobStore against the S3 test server', () => {
  const bucket = useTestBucket('blobs')
  let n = 0
  const newPrefix = () => `t${++n}-${randomBytes(3).toString('hex')}`
  const newStore = (prefix: string, extra: Partial<ConstructorParameters<typeof S3BlobStore>[0]> = {}) =>
    new S3BlobStore({ ...S3_TEST_CONNECTION, bucket: bucket.name, prefix, ...extra })

  blobStoreConformance(
    's3',
    async () => {
      const prefix = newPrefix()
      const store = newStore(prefix)
      return {
        store,
        // Anything under the prefix but committed blobs and quarantine, plus open multipart uploads.
        leftovers: async () => [
          ...(await listKeys(bucket.client, bucket.name, `${prefix}/`)).filter((k) => !k.startsWith(`${prefix}/sha256/`) && !k.startsWith(`${prefix}/quarantine/`)),
          ...(await listOpenUploads(bucket.client, bucket.name, `${prefix}/`)).map((u) => `upload:${u.key}`),
        ],
        corrupt: async (key, bytes) => {
          await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: `${prefix}/${key}`, Body: bytes }))
        },
        // Its bucket does not exist: every request of a put fails, the first upload included.
        brokenStore: async () => ({ store: newStore(prefix, { bucket: `${bucket.name}-missing` }), code: 'invalid_config' }),
        cleanup: async () => {},
      }
    },
    // lib-storage holds the part in flight, the previous part (until the next one is cut) and the
    // chunks of the next: about 3 × 5 MiB with queueSize 1. Buffering would grow by all 40 MB.
    { bigPut: { bytes: 40 * 1024 * 1024, maxGrowthBytes: 24 * 1024 * 1024 }, rewritesSmallRepeats: true },
  )

  describe('S3-specific behaviour', () => {
    it('keeps blobs under the prefix, and nothing else once a put is done', async () => {
      const prefix = newPrefix()
      const store = newStore(`/${prefix}/`)
      try {
        const { key } = await store.put(Readable.from([Buffer.from('prefixed')]))
        await store.put(Readable.from([Buffer.from('declared')]), { expectedSha256: sha256('declared') })
        expect((await listKeys(bucket.client, bucket.name, `${prefix}/`)).sort()).toEqual([`${prefix}/${key}`, `${prefix}/${blobKeyFor(sha256('declared'))}`].sort())
      } finally {
        await store.close()
      }
    })

    it('init() removes stale temporary objects and multipart uploads, and keeps fresh ones', async () => {
      const prefix = newPrefix()
      const stale = newStore(prefix, { staleAfterMs: 0 })
      const fresh = newStore(prefix)
      try {
        await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: `${prefix}/.tmp/crashed`, Body: 'half' }))
        const { CreateMultipartUploadCommand } = await import('@aws-sdk/client-s3')
        await bucket.client.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: `${prefix}/sha256/aa/bb/crashed` }))
        await fresh.init()
        expect(await listKeys(bucket.client, bucket.name, `${prefix}/.tmp/`)).toEqual([`${prefix}/.tmp/crashed`])
        expect(await listOpenUploads(bucket.client, bucket.name, `${prefix}/`)).toHaveLength(1)
        // Timestamps have second resolution on the server.
        await new Promise((r) => setTimeout(r, 1100))
        await stale.init()
        expect(await listKeys(bucket.client, bucket.name, `${prefix}/.tmp/`)).toEqual([])
        expect(await listOpenUploads(bucket.client, bucket.name, `${prefix}/`)).toEqual([])
      } finally {
        await stale.close()
        await fresh.close()
      }
    })

    /**
     * A store on a client of its own whose requests pass through `around` on the wire side of the
     * client's HTTP handler (after signing), which the SDK's commands and the direct PUT share.
     */
    function wireStore(prefix: string, around: (request: WireRequest, forward: (request: WireRequest) => Promise<unknown>) => Promise<unknown>) {
      const client = testS3Client()
      const handler = client.config.requestHandler as unknown as { handle(request: WireRequest, options?: unknown): Promise<unknown> }
      const handle = handler.handle.bind(handler)
      handler.handle = (request, options) => around(request, (r) => handle(r, options))
      return { store: newStore(prefix, { client }), close: async () => client.destroy() }
    }

    /** A store whose requests are recorded, and their bodies optionally changed after signing. */
    function recordingStore(tamper?: (body: Buffer) => Buffer) {
      const sent: string[] = []
      const wired = wireStore(newPrefix(), (request, forward) => {
        sent.push(operationOf(request))
        // After signing: what the server receives differs from what was signed for.
        if (tamper && Buffer.isBuffer(request.body)) request.body = tamper(request.body)
        return forward(request)
      })
      return { ...wired, sent }
    }

    it('puts a small blob in one PutObject straight to its key: no existence check, temporary object or copy', async () => {
      const { store, sent, close } = recordingStore()
      try {
        const bytes = sampleBytes(50_000, 8)
        const declared = { expectedSha256: sha256(bytes), expectedSize: bytes.length }
        const first = await store.put(Readable.from([bytes]), { contentType: 'image/jpeg' })
        expect(first).toMatchObject({ key: blobKeyFor(sha256(bytes)), existed: false })
        // Stored already: written again (identical bytes under their own key) rather than asked about.
        const again = await store.put(Readable.from([bytes]), declared)
        expect(again).toMatchObject({ key: first.key, existed: false })
        expect(sent).toEqual(['PutObject', 'PutObject'])
        expect((await readAll(await store.read(first.key))).equals(bytes)).toBe(true)
      } finally {
        await close()
      }
    })

    /**
     * The window Swift can open while the same bytes are put again, made on purpose: while
     * `window.gaps` is above zero, each `operation` request reaches the server while the object is
     * really gone, and the object is back before the store asks again. `window.calls` counts them.
     */
    function windowStore(prefix: string, bytes: Buffer, operation: string) {
      const objectKey = `${prefix}/${blobKeyFor(sha256(bytes))}`
      const window = { gaps: 0, calls: 0 }
      const wired = wireStore(prefix, async (request, forward) => {
        if (operationOf(request) !== operation) return forward(request)
        window.calls++
        if (window.gaps === 0) return forward(request)
        window.gaps--
        await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: objectKey }))
        try {
          return await forward(request)
        } finally {
          await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: objectKey, Body: bytes }))
        }
      })
      return { ...wired, window }
    }

    it('reads a blob that answered 404 for a moment (Swift, mid-overwrite) by asking once more; a missing blob stays not_found', async () => {
      const bytes = sampleBytes(20_000, 11)
      const { store, close, window } = windowStore(newPrefix(), bytes, 'GetObject')
      try {
        const { key } = await store.put(Readable.from([bytes]))
        window.gaps = 1
        expect((await readAll(await store.read(key))).equals(bytes)).toBe(true)
        expect(window.calls).toBe(2)
        // Twice in a row is no moment: the store reports it missing rather than asking forever.
        window.gaps = 2
        window.calls = 0
        await expect(store.read(key)).rejects.toMatchObject({ code: 'not_found' })
        expect(window.calls).toBe(2)
        window.calls = 0
        await expect(store.read(blobKeyFor(sha256('never stored')))).rejects.toMatchObject({ code: 'not_found' })
        expect(window.calls).toBe(2)
      } finally {
        await close()
      }
    })

    it('stats a blob that answered 404 for a moment by asking once more; a missing blob stays missing', async () => {
      const bytes = sampleBytes(20_000, 12)
      const { store, close, window } = windowStore(newPrefix(), bytes, 'HeadObject')
      try {
        const { key } = await store.put(Readable.from([bytes]))
        window.gaps = 1
        expect(await store.stat(key)).toEqual({ key, size: bytes.length })
        expect(window.calls).toBe(2)
        window.gaps = 2
        window.calls = 0
        expect(await store.stat(key)).toBeUndefined()
        expect(window.calls).toBe(2)
      } finally {
        await close()
      }
    })

    it('quarantines a blob whose copy answered 404 for a moment, and leaves nothing behind', async () => {
      const bytes = sampleBytes(20_000, 13)
      const prefix = newPrefix()
      const { store, close, window } = windowStore(prefix, bytes, 'CopyObject')
      try {
        const { key } = await store.put(Readable.from([bytes]))
        window.gaps = 1
        const target = await store.quarantine(key)
        expect(window.calls).toBe(2)
        expect(await store.stat(key)).toBeUndefined()
        expect(await listKeys(bucket.client, bucket.name, `${prefix}/`)).toEqual([`${prefix}/${target}`])
        // Missing at both asks: not_found, naming the blob, and no copy made.
        const second = await store.put(Readable.from([bytes]))
        const secondTarget = quarantineKeyFor(second.key, new Date(Date.now() + 60_000))
        window.gaps = 2
        window.calls = 0
        await expect(store.copyToQuarantine(second.key, secondTarget)).rejects.toMatchObject({ code: 'not_found', message: `no blob ${second.key}` })
        expect(window.calls).toBe(2)
        expect(await listKeys(bucket.client, bucket.name, `${prefix}/quarantine/`)).toEqual([`${prefix}/${target}`])
      } finally {
        await close()
      }
    })

    it('skips the upload of a large declared blob already stored, but still verifies the bytes', async () => {
      const { store, sent, close } = recordingStore()
      try {
        const bytes = sampleBytes(6 * 1024 * 1024 + 3, 9)
        const declared = { expectedSha256: sha256(bytes), expectedSize: bytes.length }
        await store.put(Readable.from([bytes]), declared)
        sent.length = 0
        const again = await store.put(Readable.from([bytes]), declared)
        expect(again.existed).toBe(true)
        expect(sent).toEqual(['HeadObject'])
        const tampered = Buffer.from(bytes)
        tampered[0] = tampered[0]! ^ 1
        await expect(store.put(Readable.from([tampered]), declared)).rejects.toMatchObject({ code: 'integrity' })
        expect((await readAll(await store.read(again.key))).equals(bytes)).toBe(true)
      } finally {
        await close()
      }
    })

    it('the server refuses a small put whose bytes changed on the way (x-amz-content-sha256), and nothing is stored', async () => {
      const { store, close } = recordingStore((body) => {
        const changed = Buffer.from(body)
        changed[changed.length - 1] = changed[changed.length - 1]! ^ 1
        return changed
      })
      try {
        const bytes = sampleBytes(30_000, 10)
        const err = await store.put(Readable.from([bytes])).catch((e: unknown) => e)
        expect(err).toMatchObject({ code: 'storage', vendorCode: 'BadDigest' })
        expect(await store.stat(blobKeyFor(sha256(bytes)))).toBeUndefined()
      } finally {
        await close()
      }
    })

    it('multipart uploads round-trip through the temporary key and the copy', async () => {
      const store = newStore(newPrefix())
      try {
        const bytes = sampleBytes(11 * 1024 * 1024, 3)
        const put = await store.put(Readable.from([bytes.subarray(0, 4_000_000), bytes.subarray(4_000_000)]))
        expect(put).toMatchObject({ sha256: sha256(bytes), size: bytes.length, existed: false })
        const tail = await store.read(put.key, { start: bytes.length - 10, end: bytes.length - 1 })
        const chunks: Buffer[] = []
        for await (const c of tail) chunks.push(c as Buffer)
        expect(Buffer.concat(chunks).equals(bytes.subarray(bytes.length - 10))).toBe(true)
      } finally {
        await store.close()
      }
    })

    it('reports a missing bucket as invalid_config', async () => {
      const store = new S3BlobStore({ ...S3_TEST_CONNECTION, bucket: `${bucket.name}-missing` })
      try {
        const err = await store.init().catch((e: unknown) => e)
        expect(err).toBeInstanceOf(MediagateError)
        expect((err as MediagateError).code).toBe('invalid_config')
      } finally {
        await store.close()
      }
    })

    it('maps refused credentials to storage without leaking the secret', async () => {
      const secret = 'wrong-secret-0123456789'
      const store = new S3BlobStore({ ...S3_TEST_CONNECTION, credentials: { accessKeyId: 'test:tester', secretAccessKey: secret }, bucket: bucket.name })
      try {
        const err = await store.stat(blobKeyFor(sha256('x'))).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(MediagateError)
        expect((err as MediagateError).code).toBe('storage')
        expect((err as MediagateError).status).toBe(503)
        const everything = JSON.stringify({ message: (err as Error).message, cause: (err as Error).cause })
        expect(everything).not.toContain(secret)
        expect(everything).not.toContain('SignatureProvided')
        // The small put's request is signed outside the SDK's stack (s3-direct-put.ts): the same refusal, the same care.
        const putErr = await store.put(Readable.from([sampleBytes(1000, 11)])).catch((e: unknown) => e)
        expect(putErr).toMatchObject({ code: 'storage', vendorCode: 'SignatureDoesNotMatch' })
        const all = JSON.stringify({ message: (putErr as Error).message, cause: (putErr as Error).cause })
        expect(all).not.toContain(secret)
        expect(all).not.toContain('StringToSign')
      } finally {
        await store.close()
      }
    })
  })
})
