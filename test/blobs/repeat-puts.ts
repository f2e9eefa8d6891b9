/**
 * Putting bytes that are already stored, on every store: the key is the same, the stored blob
 * stays readable byte for byte while the same bytes are put again (a store may write them again,
 * S3 does for blobs that fit in one request, but never exposes a partial object), and a repeated
 * put that fails (wrong bytes, too large, aborted) leaves the stored blob as it was. Small and
 * multi-part, sha256 declared or not.
 */
import { Readable } from 'node:stream'
import { beforeEach, describe, expect, it } from 'vitest'
import { blobKeyFor, type BlobStore, type PutOptions } from '../../src/blobs/blob-store.js'
import { MediagateError } from '../../src/errors.js'
import type { PutFailureContext } from './put-failures.js'
import { expectCode, listKeys, readAll, sampleBytes, sha256 } from './fixtures.js'

const SIZES = { small: 40_000, 'multi-part': 6 * 1024 * 1024 + 5 }

/** The same bytes, in chunks of 64 KiB (as a download arrives), with one byte flipped at `flipAt`. */
function source(bytes: Buffer, flipAt?: number): Readable {
  const copy = flipAt === undefined ? bytes : Buffer.from(bytes)
  if (flipAt !== undefined) copy[flipAt] = copy[flipAt]! ^ 1
  const chunks: Buffer[] = []
  for (let at = 0; at < copy.length; at += 64 * 1024) chunks.push(copy.subarray(at, at + 64 * 1024))
  return Readable.from(chunks)
}

export function repeatPutTests(ctx: PutFailureContext): void {
  describe('putting stored bytes again', () => {
    let store: BlobStore
    beforeEach(() => {
      store = ctx.store()
    })

    async function expectIntact(bytes: Buffer): Promise<void> {
      const key = blobKeyFor(sha256(bytes))
      expect(await store.stat(key)).toEqual({ key, size: bytes.length })
      expect((await readAll(await store.read(key))).equals(bytes)).toBe(true)
      expect(await listKeys(store)).toEqual([key])
      expect(await ctx.subject().leftovers()).toEqual([])
    }

    it('keeps the blob readable, byte for byte, while the same bytes are put again and again', async () => {
      const bytes = sampleBytes(SIZES.small, 31)
      const first = await store.put(source(bytes))
      const declared: PutOptions = { expectedSha256: sha256(bytes), expectedSize: bytes.length }
      const puts = Array.from({ length: 6 }, (_, i) => store.put(source(bytes), i % 2 ? declared : {}))
      const reads = Array.from({ length: 12 }, async () => (await readAll(await store.read(first.key))).equals(bytes))
      const [results, readBack] = await Promise.all([Promise.all(puts), Promise.all(reads)])
      expect(readBack.every(Boolean)).toBe(true)
      for (const r of results) expect(r).toMatchObject({ key: first.key, sha256: first.sha256, size: bytes.length })
      await expectIntact(bytes)
    })

    for (const [label, size] of Object.entries(SIZES)) {
      const bytes = sampleBytes(size, label === 'small' ? 32 : 33)

      it(`a repeated put with wrong bytes fails with integrity and leaves the stored blob as it was (${label})`, async () => {
        await store.put(source(bytes))
        // sha256 declared without a size: the store cannot know before the end that these are not the stored bytes.
        await expectCode(store.put(source(bytes, size - 1), { expectedSha256: sha256(bytes) }), 'integrity')
        await expectCode(store.put(source(bytes, 0), { expectedSha256: sha256(bytes), expectedSize: size }), 'integrity')
        await expectIntact(bytes)
      })

      it(`a repeated put that is too large or aborted leaves the stored blob as it was (${label})`, async () => {
        await store.put(source(bytes))
        await expectCode(store.put(source(bytes), { expectedSha256: sha256(bytes), maxBytes: size - 1 }), 'too_large')
        const controller = new AbortController()
        const reason = new MediagateError('conflict', 'the capture was cancelled')
        let sent = 0
        const slow = source(bytes).on('data', (chunk: Buffer) => {
          sent += chunk.length
          if (sent >= size / 2 && !controller.signal.aborted) controller.abort(reason)
        })
        await expect(store.put(slow, { expectedSha256: sha256(bytes), signal: controller.signal })).rejects.toBe(reason)
        await expectIntact(bytes)
      })
    }
  })
}
