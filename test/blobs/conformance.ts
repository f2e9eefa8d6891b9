/**
 * The BlobStore contract as tests, run against every implementation (disk.test.ts, s3.test.ts).
 * Each test gets a fresh, empty store from the factory; "nothing stored" is checked through the
 * store (`list`, `stat`) and through the subject's own view of leftovers (temp files, temporary
 * objects, open multipart uploads). What failed puts promise is in put-failures.ts.
 */
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import v8 from 'node:v8'
import vm from 'node:vm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BlobStat, type BlobStore, blobKeyFor } from '../../src/blobs/blob-store.js'
import { verifyBlob } from '../../src/blobs/verify.js'
import { chunkedSource, expectCode, listKeys, readAll, sampleBytes, sha256 } from './fixtures.js'
import { beforeCommitTests } from './before-commit.js'
import { putFailureTests } from './put-failures.js'
import { repeatPutTests } from './repeat-puts.js'

export interface ConformanceSubject {
  store: BlobStore
  /** What interrupted puts may leave outside the final keys; must be empty after any failed put. */
  leftovers(): Promise<string[]>
  /** Replaces a stored blob's bytes behind the store's back, to test verification. */
  corrupt(key: string, bytes: Buffer): Promise<void>
  /**
   * Another store of the same kind whose writes fail (the caller closes it), and the code its
   * puts must fail with: the store's own mapping, never `network`.
   */
  brokenStore(): Promise<{ store: BlobStore; code: string }>
  cleanup(): Promise<void>
}

export interface ConformanceOptions {
  /** The bounded-memory put: how many bytes to stream and how much growth the store may show. */
  bigPut: { bytes: number; maxGrowthBytes: number }
  /**
   * A repeated put of a small blob writes the identical bytes again and reports `existed: false`
   * (S3: one PUT costs less than asking first) instead of finding them there (disk).
   */
  rewritesSmallRepeats: boolean
}

/** A collectable-garbage-free memory reading: heap plus Buffer memory after a full GC. */
function memoryProbe(): () => number {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  return () => {
    gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }
}

export function blobStoreConformance(name: string, factory: () => Promise<ConformanceSubject>, options: ConformanceOptions): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let subject: ConformanceSubject
    let store: BlobStore

    beforeEach(async () => {
      subject = await factory()
      store = subject.store
      await store.init()
    })
    afterEach(async () => {
      await store.close()
      await subject.cleanup()
    })

    async function expectNothingStored(): Promise<void> {
      expect(await listKeys(store)).toEqual([])
      expect(await subject.leftovers()).toEqual([])
    }

    putFailureTests({ store: () => store, subject: () => subject, expectNothingStored })
    beforeCommitTests({ store: () => store, subject: () => subject, expectNothingStored })
    repeatPutTests({ store: () => store, subject: () => subject, expectNothingStored })

    it('puts, stats, reads and deletes a blob', async () => {
      const bytes = sampleBytes(10_000)
      const put = await store.put(Readable.from([bytes]), { contentType: 'image/jpeg' })
      expect(put).toEqual({ key: blobKeyFor(sha256(bytes)), sha256: sha256(bytes), size: 10_000, existed: false })
      expect(await store.stat(put.key)).toEqual({ key: put.key, size: 10_000 })
      expect((await readAll(await store.read(put.key))).equals(bytes)).toBe(true)
      await store.delete(put.key)
      expect(await store.stat(put.key)).toBeUndefined()
      await expectCode(store.read(put.key), 'not_found')
      await expectNothingStored()
    })

    it('hashes and counts streamed chunks, including an empty blob', async () => {
      const parts = [Buffer.from('hello '), Buffer.from(''), Buffer.from('world')]
      const put = await store.put(Readable.from(parts))
      expect(put.sha256).toBe(sha256('hello world'))
      expect(put.size).toBe(11)
      const empty = await store.put(Readable.from([]))
      expect(empty).toMatchObject({ sha256: sha256(''), size: 0, key: blobKeyFor(sha256('')) })
      expect(await store.stat(empty.key)).toEqual({ key: empty.key, size: 0 })
      expect(await text(await store.read(put.key))).toBe('hello world')
    })

    it('puts a body given whole as one Buffer: verified, durable, the same blob a stream of those bytes makes', async () => {
      const bytes = sampleBytes(50 * 1024, 9)
      const put = await store.put(bytes, { expectedSha256: sha256(bytes), expectedSize: bytes.length, maxBytes: bytes.length, contentType: 'image/jpeg' })
      expect(put).toEqual({ key: blobKeyFor(sha256(bytes)), sha256: sha256(bytes), size: bytes.length, existed: false })
      expect((await readAll(await store.read(put.key))).equals(bytes)).toBe(true)
      const streamed = await store.put(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]))
      expect(streamed).toEqual({ ...put, existed: !options.rewritesSmallRepeats })
      const empty = await store.put(Buffer.alloc(0))
      expect(empty).toMatchObject({ sha256: sha256(''), size: 0 })
      expect(await subject.leftovers()).toEqual([])
    })

    it('stores the same bytes once', async () => {
      const bytes = sampleBytes(3000, 2)
      const first = await store.put(Readable.from([bytes]))
      const second = await store.put(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]))
      const third = await store.put(Readable.from([bytes]), { expectedSha256: sha256(bytes), expectedSize: 3000 })
      expect(first.existed).toBe(false)
      expect(second).toEqual({ ...first, existed: !options.rewritesSmallRepeats })
      expect(third).toEqual({ ...first, existed: !options.rewritesSmallRepeats })
      expect(await listKeys(store)).toEqual([first.key])
      expect(await subject.leftovers()).toEqual([])
    })

    it('stores the same bytes once under concurrent puts', async () => {
      const bytes = sampleBytes(50_000, 3)
      const results = await Promise.all([1, 2, 3].map(() => store.put(Readable.from([bytes]))))
      expect(new Set(results.map((r) => r.key)).size).toBe(1)
      expect(await listKeys(store)).toEqual([blobKeyFor(sha256(bytes))])
      expect((await readAll(await store.read(results[0]!.key))).equals(bytes)).toBe(true)
    })

    it('accepts a declared sha256 and size that match (any hex case)', async () => {
      const bytes = sampleBytes(4096, 4)
      const put = await store.put(Readable.from([bytes]), { expectedSha256: sha256(bytes).toUpperCase(), expectedSize: 4096 })
      expect(put).toEqual({ key: blobKeyFor(sha256(bytes)), sha256: sha256(bytes), size: 4096, existed: false })
      expect((await readAll(await store.read(put.key))).equals(bytes)).toBe(true)
    })

    it('accepts exactly maxBytes', async () => {
      const put = await store.put(Readable.from([sampleBytes(1000)]), { maxBytes: 1000 })
      expect(put.size).toBe(1000)
    })

    it('reads byte ranges: first byte, last byte, middle, whole, past the end', async () => {
      const bytes = sampleBytes(1000, 7)
      const { key } = await store.put(Readable.from([bytes]))
      const cases: [number, number, Buffer][] = [
        [0, 0, bytes.subarray(0, 1)],
        [999, 999, bytes.subarray(999)],
        [100, 199, bytes.subarray(100, 200)],
        [0, 999, bytes],
        [990, 5000, bytes.subarray(990)],
      ]
      for (const [start, end, want] of cases) {
        const got = await readAll(await store.read(key, { start, end }))
        expect(got.equals(want), `bytes ${start}-${end}`).toBe(true)
      }
      await expectCode(store.read(key, { start: 1000, end: 1000 }), 'bad_request')
      await expectCode(store.read(key, { start: 5, end: 4 }), 'bad_request')
      await expectCode(store.read(key, { start: -1, end: 4 }), 'bad_request')
    })

    it('readBytes, where offered: exact bytes at an offset, an error for a blob shorter than asked', async (t) => {
      if (!store.readBytes) return t.skip()
      const bytes = sampleBytes(1000, 11)
      const { key } = await store.put(Readable.from([bytes]))
      expect((await store.readBytes(key, 0, 1000)).equals(bytes)).toBe(true)
      expect((await store.readBytes(key, 990, 10)).equals(bytes.subarray(990))).toBe(true)
      expect((await store.readBytes(key, 5, 0)).length).toBe(0)
      await expectCode(store.readBytes(key, 990, 11), 'storage')
      await expectCode(store.readBytes(key, -1, 4), 'bad_request')
      await expectCode(store.readBytes(blobKeyFor(sha256('never stored')), 0, 1), 'not_found')
    })

    it('answers not_found / undefined for a missing key', async () => {
      const key = blobKeyFor(sha256('never stored'))
      await expectCode(store.read(key), 'not_found')
      await expectCode(store.read(key, { start: 0, end: 1 }), 'not_found')
      expect(await store.stat(key)).toBeUndefined()
      expect(await store.stat('readyz-probe')).toBeUndefined()
    })

    it('deletes idempotently', async () => {
      const { key } = await store.put(Readable.from([Buffer.from('delete me')]))
      await store.delete(key)
      await store.delete(key)
      await store.delete(blobKeyFor(sha256('never stored')))
      expect(await store.stat(key)).toBeUndefined()
    })

    it('lists every blob with its size', async () => {
      const blobs = [sampleBytes(10, 1), sampleBytes(2000, 2), sampleBytes(30_000, 3)]
      for (const b of blobs) await store.put(Readable.from([b]))
      const listed: { key: string; size: number }[] = []
      for await (const s of store.list()) listed.push({ key: s.key, size: s.size })
      const want = blobs.map((b) => ({ key: blobKeyFor(sha256(b)), size: b.length }))
      expect(listed.sort((a, b) => a.key.localeCompare(b.key))).toEqual(want.sort((a, b) => a.key.localeCompare(b.key)))
    })

    it('lists when each blob was written', async () => {
      const before = Date.now()
      const { key } = await store.put(Readable.from([sampleBytes(100, 9)]))
      const listed: BlobStat[] = []
      for await (const s of store.list()) listed.push(s)
      expect(listed.map((s) => s.key)).toEqual([key])
      // Whole seconds on some stores (S3's LastModified), and another machine's clock: a loose bound.
      expect(Math.abs(listed[0]!.modifiedAt!.getTime() - before)).toBeLessThan(60_000)
    })

    it('rejects hostile keys with bad_request', async () => {
      for (const key of ['../escape', 'sha256/../../escape', '/etc/passwd', 'a\0b', '.tmp/x', 'a//b', '']) {
        await expectCode(store.stat(key), 'bad_request')
        await expectCode(store.read(key), 'bad_request')
        await expectCode(store.delete(key), 'bad_request')
      }
    })

    it('quarantines a blob: moved aside, kept, no longer listed', async () => {
      expect(store.quarantine).toBeTypeOf('function')
      const bytes = sampleBytes(5000, 8)
      const { key } = await store.put(Readable.from([bytes]))
      const moved = await store.quarantine!(key)
      expect(moved.startsWith(`quarantine/${key}.`)).toBe(true)
      expect(await store.stat(key)).toBeUndefined()
      expect(await store.stat(moved)).toEqual({ key: moved, size: 5000 })
      expect((await readAll(await store.read(moved))).equals(bytes)).toBe(true)
      expect(await listKeys(store)).toEqual([])
      await expectCode(store.quarantine!(key), 'not_found')
      // The same bytes can be captured again afterwards.
      expect((await store.put(Readable.from([bytes]))).existed).toBe(false)
    })

    it('copies a blob to a given quarantine key, keeping the original (migrate-data restores evidence)', async () => {
      expect(store.copyToQuarantine).toBeTypeOf('function')
      const bytes = sampleBytes(6000, 10)
      const { key } = await store.put(Readable.from([bytes]))
      const target = `quarantine/${key}.20260102T030405006Z`
      await store.copyToQuarantine!(key, target)
      expect(await store.stat(target)).toEqual({ key: target, size: 6000 })
      expect((await readAll(await store.read(target))).equals(bytes)).toBe(true)
      expect(await store.stat(key)).toEqual({ key, size: 6000 })
      expect(await listKeys(store)).toEqual([key])
      await expectCode(store.copyToQuarantine!(key, `sha256/${key.slice(7)}`), 'bad_request')
      await expectCode(store.copyToQuarantine!(key, 'quarantine/elsewhere'), 'bad_request')
      await store.delete(key)
      await expectCode(store.copyToQuarantine!(key, target), 'not_found')
      // Deleting the original leaves the evidence.
      expect(await store.stat(target)).toEqual({ key: target, size: 6000 })
    })

    it('verifies blobs: ok, corrupt, missing', async () => {
      const bytes = sampleBytes(7000, 9)
      const { key } = await store.put(Readable.from([bytes]))
      expect(await verifyBlob(store, key)).toMatchObject({ status: 'ok', sha256: sha256(bytes), size: 7000, expectedSha256: sha256(bytes) })
      expect(await verifyBlob(store, key, { size: 7001 })).toMatchObject({ status: 'corrupt', size: 7000 })
      const damaged = Buffer.from(bytes)
      damaged[3000] = damaged[3000]! ^ 0xff
      await subject.corrupt(key, damaged)
      expect(await verifyBlob(store, key)).toMatchObject({ status: 'corrupt', sha256: sha256(damaged), expectedSha256: sha256(bytes) })
      await store.quarantine!(key)
      expect(await verifyBlob(store, key)).toMatchObject({ status: 'missing' })
    })

    it('presigns GET URLs when it declares the capability', async () => {
      if (!store.capabilities.presign) {
        expect(store.presignGet).toBeUndefined()
        return
      }
      const bytes = sampleBytes(1234, 10)
      const { key } = await store.put(Readable.from([bytes]))
      const url = await store.presignGet!(key, { expiresInSeconds: 60, contentType: 'image/png', contentDisposition: 'attachment; filename="a.png"' })
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/png')
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="a.png"')
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true)
      const tampered = url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=999')
      expect((await fetch(tampered)).status).toBe(403)
    })

    it(`streams a ${options.bigPut.bytes / 1024 / 1024} MB put with bounded memory`, async () => {
      const probe = memoryProbe()
      const baseline = probe()
      let peak = 0
      const src = chunkedSource(options.bigPut.bytes, {
        onChunk: (sent) => {
          if (sent % (2 * 1024 * 1024) === 0) peak = Math.max(peak, probe() - baseline)
        },
      })
      const put = await store.put(src.stream, { maxBytes: options.bigPut.bytes })
      peak = Math.max(peak, probe() - baseline)
      expect(put.size).toBe(options.bigPut.bytes)
      expect(put.sha256).toBe(src.state.hash.digest('hex'))
      expect(peak, `peak memory growth ${(peak / 1024 / 1024).toFixed(1)} MB`).toBeLessThan(options.bigPut.maxGrowthBytes)
      expect(await store.stat(put.key)).toEqual({ key: put.key, size: options.bigPut.bytes })
      const hash = createHash('sha256')
      for await (const c of await store.read(put.key)) hash.update(c as Buffer)
      expect(hash.digest('hex')).toBe(put.sha256)
    })
  })
}
