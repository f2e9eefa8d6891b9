/**
 * `beforeCommit`, on every store: it gets the sha256 before anything is committed or looked up
 * under the final key, a rejection fails the put with that error and stores nothing, and a blob
 * deleted while the hook ran (a deletion that got there first) is written again rather than
 * taken for present. Both commit paths (declared sha256 or not), small and multi-part.
 */
import { Readable } from 'node:stream'
import { beforeEach, describe, expect, it } from 'vitest'
import { blobKeyFor, type BlobStore, type PutOptions } from '../../src/blobs/blob-store.js'
import { MediagateError } from '../../src/errors.js'
import type { PutFailureContext } from './put-failures.js'
import { readAll, sampleBytes, sha256 } from './fixtures.js'

const SIZES = { small: 10_000, 'multi-part': 6 * 1024 * 1024 + 17 }

export function beforeCommitTests(ctx: PutFailureContext): void {
  describe('beforeCommit', () => {
    let store: BlobStore
    beforeEach(() => {
      store = ctx.store()
    })

    for (const [label, size] of Object.entries(SIZES)) {
      for (const declared of [false, true]) {
        const path = `${label}, sha256 ${declared ? 'declared' : 'not declared'}`
        const bytes = sampleBytes(size, declared ? 21 : 22)
        const declare = (options: PutOptions): PutOptions => (declared ? { ...options, expectedSha256: sha256(bytes), expectedSize: size } : options)

        it(`runs once with the sha256, before the blob exists under its key (${path})`, async () => {
          const seen: { sha256: string; present: boolean }[] = []
          const put = await store.put(Readable.from([bytes]), declare({ beforeCommit: async (s) => void seen.push({ sha256: s, present: (await store.stat(blobKeyFor(s))) !== undefined }) }))
          expect(seen).toEqual([{ sha256: sha256(bytes), present: false }])
          expect(put).toMatchObject({ key: blobKeyFor(sha256(bytes)), existed: false })
          expect((await readAll(await store.read(put.key))).equals(bytes)).toBe(true)
        })

        it(`a rejection fails the put with its error and stores nothing (${path})`, async () => {
          const refusal = new MediagateError('conflict', 'the record is gone')
          await expect(store.put(Readable.from([bytes]), declare({ beforeCommit: () => Promise.reject(refusal) }))).rejects.toBe(refusal)
          await ctx.expectNothingStored()
        })

        it(`a blob deleted while it ran is written again, not taken for present (${path})`, async () => {
          const first = await store.put(Readable.from([bytes]))
          const again = await store.put(Readable.from([bytes]), declare({ beforeCommit: () => store.delete(first.key) }))
          expect(again).toMatchObject({ key: first.key, existed: false })
          expect((await readAll(await store.read(first.key))).equals(bytes)).toBe(true)
        })
      }
    }
  })
}
