/**
 * What every failed put promises, on every store: the frame around a put (src/blobs/put-frame.ts)
 * refuses an already aborted put and bad options before reading a byte, stops the source on any
 * failure, tells a broken source (`network`) from a broken store (the store's own code), keeps
 * the caller's abort reason, and leaves nothing under a final key or in temporary storage.
 * Both commit paths are exercised: the caller declared the sha256 (S3 uploads straight to the
 * final key) or not (S3 goes through a temporary object), small (in memory on disk) and
 * multi-part.
 */
import { Readable } from 'node:stream'
import { beforeEach, describe, expect, it } from 'vitest'
import { blobKeyFor, type BlobStore, type PutOptions } from '../../src/blobs/blob-store.js'
import { MediagateError } from '../../src/errors.js'
import type { ConformanceSubject } from './conformance.js'
import { chunkedSha256, chunkedSource, expectCode, plainSource, sampleBytes, sha256 } from './fixtures.js'

export interface PutFailureContext {
  store(): BlobStore
  subject(): ConformanceSubject
  /** Nothing listed, nothing left in temporary storage. */
  expectNothingStored(): Promise<void>
}

const MiB = 1024 * 1024

export function putFailureTests(ctx: PutFailureContext): void {
  describe('failed puts', () => {
    let store: BlobStore
    let expectNothingStored: () => Promise<void>
    beforeEach(() => {
      store = ctx.store()
      expectNothingStored = ctx.expectNothingStored
    })

    it('fails with integrity and stores nothing when the sha256 differs', async () => {
      const bytes = sampleBytes(2048, 5)
      const err = await expectCode(store.put(Readable.from([bytes]), { expectedSha256: sha256('something else') }), 'integrity')
      expect(err.message).toContain(sha256(bytes))
      expect(await store.stat(blobKeyFor(sha256('something else')))).toBeUndefined()
      await expectNothingStored()
    })

    it('fails with integrity and stores nothing when the size differs', async () => {
      const bytes = sampleBytes(2048, 6)
      await expectCode(store.put(Readable.from([bytes]), { expectedSize: 2047 }), 'integrity')
      await expectCode(store.put(Readable.from([bytes]), { expectedSize: 2049 }), 'integrity')
      await expectCode(store.put(Readable.from([bytes]), { expectedSha256: sha256(bytes), expectedSize: 10 }), 'integrity')
      await expectNothingStored()
    })

    it('fails a body given whole as one Buffer the same way: wrong sha256, wrong size, too large, aborted, and stores nothing', async () => {
      const bytes = sampleBytes(50 * 1024, 7)
      const err = await expectCode(store.put(bytes, { expectedSha256: sha256('something else') }), 'integrity')
      expect(err.message).toContain(sha256(bytes))
      await expectCode(store.put(bytes, { expectedSize: bytes.length - 1 }), 'integrity')
      await expectCode(store.put(bytes, { expectedSize: bytes.length + 1 }), 'integrity')
      await expectCode(store.put(bytes, { expectedSha256: sha256(bytes), maxBytes: bytes.length - 1 }), 'too_large')
      await expectCode(store.put(bytes, { expectedSha256: 'not-a-hash' }), 'bad_request')
      const reason = new MediagateError('conflict', 'lease lost')
      expect(await expectCode(store.put(bytes, { signal: AbortSignal.abort(reason) }), 'conflict')).toBe(reason)
      expect(await store.stat(blobKeyFor(sha256(bytes)))).toBeUndefined()
      await expectNothingStored()
    })

    it('commits a whole Buffer whose signal aborts after its bytes were verified, as a streamed body past its end, and raises nothing unheard', async () => {
      // Its bytes passed the hasher before the store began: an abort now has nothing to cut, and
      // an 'error' of the hasher, which nothing listens to in this case, would end the process.
      const bytes = sampleBytes(50 * 1024, 8)
      const controller = new AbortController()
      const unheard: unknown[] = []
      const onUncaught = (err: unknown) => unheard.push(err)
      process.on('uncaughtException', onUncaught)
      try {
        const put = await store.put(bytes, { signal: controller.signal, beforeCommit: async () => controller.abort(new MediagateError('network', 'the engine is stopping')) })
        expect(put.sha256).toBe(sha256(bytes))
        expect((await store.stat(put.key))?.size).toBe(bytes.length)
        await new Promise((resolve) => setImmediate(resolve))
      } finally {
        process.off('uncaughtException', onUncaught)
      }
      expect(unheard).toEqual([])
    })

    it('refuses a malformed expected sha256 before reading', async () => {
      await expectCode(store.put(Readable.from([Buffer.from('x')]), { expectedSha256: 'not-a-hash' }), 'bad_request')
      await expectNothingStored()
    })

    it('stops with too_large once maxBytes is passed, and stores nothing', async () => {
      const src = chunkedSource(8 * 1024 * 1024, { chunk: 64 * 1024 })
      await expectCode(store.put(src.stream, { maxBytes: 1024 * 1024 }), 'too_large')
      // The source was stopped soon after the limit, not drained to its end.
      expect(src.state.sent).toBeLessThan(3 * 1024 * 1024)
      expect(src.stream.destroyed).toBe(true)
      await expectNothingStored()
    })

    it('stores nothing when the source fails midway, small or multi-part', async () => {
      for (const total of [200 * 1024, 12 * 1024 * 1024]) {
        const src = chunkedSource(total, { failAfter: total - 64 * 1024 })
        const err = await expectCode(store.put(src.stream), 'network')
        expect(err.message).toContain('source broke midway')
      }
      const upstream = chunkedSource(100_000, { failAfter: 50_000, error: new MediagateError('upstream', 'CDN reset') })
      await expectCode(store.put(upstream.stream), 'upstream')
      await expectNothingStored()
    })

    it('stops and stores nothing when the signal aborts, with the abort reason', async () => {
      const controller = new AbortController()
      const reason = new MediagateError('network', 'the worker is stopping')
      const src = chunkedSource(64 * 1024 * 1024, {
        chunk: 256 * 1024,
        delayMs: 1,
        onChunk: (sent) => {
          if (sent === 6 * 1024 * 1024) controller.abort(reason)
        },
      })
      const err = await expectCode(store.put(src.stream, { signal: controller.signal }), 'network')
      expect(err).toBe(reason)
      expect(src.state.sent).toBeLessThan(16 * 1024 * 1024)
      await expectNothingStored()

      const already = AbortSignal.abort(new MediagateError('conflict', 'lease lost'))
      await expectCode(store.put(Readable.from([Buffer.from('x')]), { signal: already }), 'conflict')
      await expectNothingStored()
    })


    it('refuses a put whose signal is already aborted without reading the body, either path', async () => {
      for (const declared of [{}, { expectedSha256: chunkedSha256(MiB), expectedSize: MiB }] satisfies PutOptions[]) {
        const reason = new MediagateError('conflict', 'lease lost')
        const src = chunkedSource(MiB)
        const err = await expectCode(store.put(src.stream, { ...declared, signal: AbortSignal.abort(reason) }), 'conflict')
        expect(err).toBe(reason)
        expect(src.state.sent).toBe(0)
        expect(src.stream.destroyed).toBe(true)
      }
      await expectNothingStored()
    })

    it('refuses bad options before reading the body, and destroys it', async () => {
      const bad: PutOptions[] = [
        { expectedSha256: 'not-a-hash' },
        { expectedSha256: sha256('x').slice(1) },
        { expectedSize: -1 },
        { expectedSize: 1.5 },
        { maxBytes: -1 },
        { maxBytes: Number.NaN },
      ]
      for (const options of bad) {
        const src = chunkedSource(MiB)
        await expectCode(store.put(src.stream, options), 'bad_request')
        expect(src.state.sent, JSON.stringify(options)).toBe(0)
        expect(src.stream.destroyed, JSON.stringify(options)).toBe(true)
      }
      await expectNothingStored()
    })

    it('stops and stores nothing when the signal aborts while the first bytes arrive', async () => {
      const controller = new AbortController()
      const reason = new MediagateError('network', 'the worker is stopping')
      const src = chunkedSource(MiB, {
        delayMs: 1,
        onChunk: (sent) => {
          if (sent === 128 * 1024) controller.abort(reason)
        },
      })
      const err = await expectCode(store.put(src.stream, { signal: controller.signal }), 'network')
      expect(err).toBe(reason)
      expect(src.state.sent).toBeLessThan(MiB)
      expect(src.stream.destroyed).toBe(true)
      await expectNothingStored()
    })

    it('fails a put aborted without a reason of ours with retryable storage, the reason as cause', async () => {
      const controller = new AbortController()
      const src = chunkedSource(8 * MiB, {
        delayMs: 1,
        onChunk: (sent) => {
          if (sent === MiB) controller.abort()
        },
      })
      const err = await expectCode(store.put(src.stream, { signal: controller.signal }), 'storage')
      expect(err.retryable).toBe(true)
      expect(err.cause).toBe(controller.signal.reason)
      expect(src.state.sent).toBeLessThan(8 * MiB)
      await expectNothingStored()
    })

    it('stops and stores nothing under the declared key when the signal aborts a declared put', async () => {
      const total = 24 * MiB
      const chunk = 256 * 1024
      const declared = chunkedSha256(total, chunk)
      const controller = new AbortController()
      const reason = new MediagateError('network', 'the worker is stopping')
      const src = chunkedSource(total, {
        chunk,
        delayMs: 1,
        onChunk: (sent) => {
          if (sent === 6 * MiB) controller.abort(reason)
        },
      })
      const err = await expectCode(store.put(src.stream, { expectedSha256: declared, expectedSize: total, signal: controller.signal }), 'network')
      expect(err).toBe(reason)
      expect(src.state.sent).toBeLessThan(total)
      expect(await store.stat(blobKeyFor(declared))).toBeUndefined()
      await expectNothingStored()
    })

    it('stores nothing when a multi-part put does not match its declared sha256 or size', async () => {
      const total = 12 * MiB
      const actual = chunkedSha256(total)
      const other = sha256('something else')
      const wrongHash = await expectCode(store.put(chunkedSource(total).stream, { expectedSha256: other }), 'integrity')
      expect(wrongHash.message).toContain(actual)
      await expectCode(store.put(chunkedSource(total).stream, { expectedSha256: actual, expectedSize: total + 1 }), 'integrity')
      const tooLong = chunkedSource(total)
      await expectCode(store.put(tooLong.stream, { expectedSha256: actual, expectedSize: MiB }), 'integrity')
      // Stopped once past the declared size, not drained.
      expect(tooLong.state.sent).toBeLessThan(3 * MiB)
      expect(tooLong.stream.destroyed).toBe(true)
      expect(await store.stat(blobKeyFor(actual))).toBeUndefined()
      expect(await store.stat(blobKeyFor(other))).toBeUndefined()
      await expectNothingStored()
    })

    it('stores nothing under the declared key when the source of a declared put fails', async () => {
      for (const total of [200 * 1024, 12 * MiB]) {
        const declared = chunkedSha256(total)
        const src = chunkedSource(total, { failAfter: total - 64 * 1024 })
        const err = await expectCode(store.put(src.stream, { expectedSha256: declared, expectedSize: total }), 'network')
        expect(err.message).toContain('source broke midway')
        expect(err.cause).toBeInstanceOf(Error)
        expect(await store.stat(blobKeyFor(declared))).toBeUndefined()
      }
      await expectNothingStored()
    })

    it("fails with the store's own error, not network, when the store breaks, and stops the source", async () => {
      const broken = await ctx.subject().brokenStore()
      try {
        for (const total of [1000, 12 * MiB]) {
          for (const src of [chunkedSource(total), plainSource(total)]) {
            const err = await expectCode(broken.store.put(src.stream), broken.code)
            expect(err.cause, 'the store error is kept as cause').toBeDefined()
            expect(src.stream.destroyed).toBe(true)
            if (total > 1000) expect(src.state.sent).toBeLessThan(total)
          }
        }
        const small = sampleBytes(1000)
        await expectCode(broken.store.put(Readable.from([small]), { expectedSha256: sha256(small), expectedSize: 1000 }), broken.code)
      } finally {
        await broken.store.close()
      }
    })
  })
}
