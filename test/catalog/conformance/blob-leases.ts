/**
 * Blob leases and deletion claims (migration 5): a capture's lease on the key it is about to
 * commit and a deletion's claim on a key exclude each other, in one catalog and across several
 * (processes), and each ends as documented: the lease with its record's settlement or job lease,
 * the claim with `endBlobDeletions` or its expiry.
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { seed } from '../fixtures.js'
import { stored } from './claim.js'

const newKey = () => {
  const sha256 = randomBytes(32).toString('hex')
  return { sha256, key: `sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}` }
}

/** A pending record claimed (job-leased) by `owner`. */
async function captured(catalog: TestCatalog, owner: string, leaseMs = 60_000): Promise<string> {
  const [id] = await seed(catalog, 1)
  // Only this record is due: one claimed per call, whatever other records exist.
  const [job] = await catalog.claim({ owner, limit: 1, leaseMs, crashLimit: 8 })
  expect(job?.id).toBe(id)
  return id!
}

export function blobLeaseTests(ctx: ConformanceContext): void {
  describe('blob leases and deletion claims', () => {
    it('a capture under its job lease leases its key; anyone else is told the record is lost', async () => {
      const catalog = ctx.catalog()
      const id = await captured(catalog, 'w')
      const { key } = newKey()
      expect(await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }])).toEqual(['leased'])
      const [unclaimed] = await seed(catalog, 1)
      expect(
        await catalog.leaseBlobs([
          { mediaId: id, owner: 'another-worker', blobKey: key },
          { mediaId: unclaimed!, owner: 'w', blobKey: key },
          { mediaId: 'med_00000000000000000000000000', owner: 'w', blobKey: key },
          { mediaId: id, owner: 'w', blobKey: key },
        ]),
      ).toEqual(['lost', 'lost', 'lost', 'leased'])
      await catalog.markDeleted([id])
      expect(await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }])).toEqual(['lost'])
      expect(await catalog.leaseBlobs([])).toEqual([])
    })

    it('a group of leases on distinct records answers each for its own record and sets only the leased keys', async () => {
      const catalog = ctx.catalog()
      const [mine, theirs, deleting] = [await captured(catalog, 'w'), await captured(catalog, 'x'), await captured(catalog, 'w')]
      // Last: once its lease runs out it would be the next claim's.
      const expiring = await captured(catalog, 'w', 1)
      const [unclaimed] = await seed(catalog, 1)
      const keys = Array.from({ length: 6 }, () => newKey().key)
      expect((await catalog.claimBlobDeletions([keys[4]!], 'eraser', 60_000)).claimed).toEqual([keys[4]])
      await sleep(5)
      expect(
        await catalog.leaseBlobs([
          { mediaId: mine, owner: 'w', blobKey: keys[0]! },
          { mediaId: theirs, owner: 'w', blobKey: keys[1]! },
          { mediaId: expiring, owner: 'w', blobKey: keys[2]! },
          { mediaId: unclaimed!, owner: 'w', blobKey: keys[3]! },
          { mediaId: deleting, owner: 'w', blobKey: keys[4]! },
          { mediaId: 'med_00000000000000000000000000', owner: 'w', blobKey: keys[5]! },
        ]),
      ).toEqual(['leased', 'lost', 'lost', 'lost', 'deleting', 'lost'])
      // Only the leased key holds a deletion back; the others were never written.
      const claim = await catalog.claimBlobDeletions(keys.filter((_, i) => i !== 4), 'eraser-2', 60_000)
      expect(claim).toEqual({ claimed: keys.filter((_, i) => i !== 0 && i !== 4).sort(), referenced: [], leased: [keys[0]], busy: [] })
    })

    it('a claim is refused for a key a live record uses or a capture leased, and granted once neither holds', async () => {
      const catalog = ctx.catalog()
      const used = newKey()
      const leased = newKey()
      const free = newKey()
      const owner = await captured(catalog, 'w')
      expect(await catalog.settle(owner, 'w', stored(used))).toBe(true)
      const capturing = await captured(catalog, 'w')
      expect(await catalog.leaseBlobs([{ mediaId: capturing, owner: 'w', blobKey: leased.key }])).toEqual(['leased'])

      const claim = await catalog.claimBlobDeletions([used.key, leased.key, free.key, free.key], 'eraser-1', 60_000)
      expect(claim).toEqual({ claimed: [free.key], referenced: [used.key], leased: [leased.key], busy: [] })
      await catalog.endBlobDeletions('eraser-1', [free.key], [])

      // The settlement ends the lease: the record now uses the key instead.
      expect(await catalog.settle(capturing, 'w', stored(leased))).toBe(true)
      expect((await catalog.claimBlobDeletions([leased.key], 'eraser-2', 60_000)).referenced).toEqual([leased.key])
      // Erased: nothing holds either key any more.
      await catalog.markDeleted([owner, capturing])
      expect((await catalog.claimBlobDeletions([used.key, leased.key], 'eraser-3', 60_000)).claimed).toEqual([used.key, leased.key].sort())
    })

    it('a deletion of a capture in flight ends its lease: the key can be claimed', async () => {
      const catalog = ctx.catalog()
      const id = await captured(catalog, 'w')
      const { key } = newKey()
      expect(await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }])).toEqual(['leased'])
      await catalog.markDeleted([id])
      expect((await catalog.claimBlobDeletions([key], 'eraser', 60_000)).claimed).toEqual([key])
    })

    it('while a key is claimed, a capture is told to wait and another claimant that it is busy; ending the claim lets the capture lease', async () => {
      const catalog = ctx.catalog()
      const { key } = newKey()
      expect((await catalog.claimBlobDeletions([key], 'eraser-a', 60_000)).claimed).toEqual([key])
      const id = await captured(catalog, 'w')
      expect(await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }])).toEqual(['deleting'])
      expect(await catalog.claimBlobDeletions([key], 'eraser-b', 60_000)).toEqual({ claimed: [], referenced: [], leased: [], busy: [key] })
      // The same claimant may claim again (it already holds it).
      expect((await catalog.claimBlobDeletions([key], 'eraser-a', 60_000)).claimed).toEqual([key])
      // Only the claimant ends its claim.
      await catalog.endBlobDeletions('eraser-b', [key], [])
      expect(await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }])).toEqual(['deleting'])
      await catalog.endBlobDeletions('eraser-a', [key], [])
      expect(await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }])).toEqual(['leased'])
    })

    it('a claim whose claimant died expires; so does a lease whose job lease ran out', async () => {
      const catalog = ctx.catalog()
      const { key } = newKey()
      expect((await catalog.claimBlobDeletions([key], 'dead-eraser', 1)).claimed).toEqual([key])
      const id = await captured(catalog, 'w', 200)
      let answer = (await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }]))[0]
      for (let i = 0; i < 100 && answer === 'deleting'; i++) {
        await sleep(5)
        answer = (await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }]))[0]
      }
      expect(answer).toBe('leased')
      const other = newKey()
      expect(await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: other.key }])).toEqual(['leased'])
      expect((await catalog.claimBlobDeletions([other.key], 'eraser', 60_000)).leased).toEqual([other.key])
      await sleep(250)
      // The job lease ran out (its process is presumed dead): the blob lease protects nothing, and a late lease is refused.
      expect((await catalog.claimBlobDeletions([other.key], 'eraser', 60_000)).claimed).toEqual([other.key])
      await catalog.endBlobDeletions('eraser', [other.key], [])
      expect(await catalog.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: other.key }])).toEqual(['lost'])
    })

    it('a lazy capture leases its key on the remote record for a while; storing, erasing or time ends the lease', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1, { policy: 'lazy' })
      const key = newKey()
      const lazy = (owner: string, blobKey: string, holdMs = 60_000) => catalog.leaseBlobs([{ mediaId: id!, owner, blobKey, holdMs }])
      expect(await lazy('p1', key.key)).toEqual(['leased'])
      // Two processes capturing the same record lease the same key; other bytes wait for the first.
      expect(await lazy('p2', key.key, 1)).toEqual(['leased'])
      expect(await lazy('p2', newKey().key)).toEqual(['busy'])
      // A job lease's owner has no hold on a remote record.
      expect(await catalog.leaseBlobs([{ mediaId: id!, owner: 'p1', blobKey: key.key }])).toEqual(['lost'])
      expect((await catalog.claimBlobDeletions([key.key], 'eraser', 60_000)).leased).toEqual([key.key])
      expect(await catalog.storeRemote(id!, stored(key))).toMatchObject({ status: 'stored', blobKey: key.key, leaseOwner: null, leaseExpiresAt: null })
      expect((await catalog.claimBlobDeletions([key.key], 'eraser', 60_000)).referenced).toEqual([key.key])
      // Stored by another capture: a late lease is refused, so it commits nothing.
      expect(await lazy('p2', key.key)).toEqual(['lost'])

      const [erased] = await seed(catalog, 1, { policy: 'lazy' })
      const other = newKey()
      expect(await catalog.leaseBlobs([{ mediaId: erased!, owner: 'p1', blobKey: other.key, holdMs: 60_000 }])).toEqual(['leased'])
      await catalog.markDeleted([erased!])
      expect(await catalog.leaseBlobs([{ mediaId: erased!, owner: 'p1', blobKey: other.key, holdMs: 60_000 }])).toEqual(['lost'])
      expect((await catalog.claimBlobDeletions([other.key], 'eraser', 60_000)).claimed).toEqual([other.key])

      const [stalled] = await seed(catalog, 1, { policy: 'lazy' })
      const late = newKey()
      expect(await catalog.leaseBlobs([{ mediaId: stalled!, owner: 'p1', blobKey: late.key, holdMs: 1500 }])).toEqual(['leased'])
      expect((await catalog.claimBlobDeletions([late.key], 'eraser-2', 60_000)).leased).toEqual([late.key])
      await sleep(1700)
      // The capture had its time (the download deadline): the lease protects nothing, and other bytes may lease now.
      expect((await catalog.claimBlobDeletions([late.key], 'eraser-2', 60_000)).claimed).toEqual([late.key])
      await catalog.endBlobDeletions('eraser-2', [late.key], [])
      expect(await catalog.leaseBlobs([{ mediaId: stalled!, owner: 'p2', blobKey: newKey().key, holdMs: 60_000 }])).toEqual(['leased'])
    })

    it('ending claims lets tombstones go of released keys and keeps abandoned ones on them', async () => {
      const catalog = ctx.catalog()
      const gone = newKey()
      const stuck = newKey()
      const a = await captured(catalog, 'w')
      const b = await captured(catalog, 'w')
      await catalog.settle(a, 'w', stored(gone))
      await catalog.settle(b, 'w', stored(stuck))
      await catalog.markDeleted([a, b])
      const claim = await catalog.claimBlobDeletions([gone.key, stuck.key], 'eraser', 60_000)
      expect(claim.claimed).toEqual([gone.key, stuck.key].sort())
      await catalog.endBlobDeletions('eraser', [gone.key], [stuck.key])
      expect((await catalog.get(a))!.blobKey).toBeNull()
      expect((await catalog.get(b))!.blobKey).toBe(stuck.key)
      expect(await catalog.tombstoneBlobKeys(100)).toEqual([stuck.key])
      // The abandoned claim ended too: the next sweep can claim it.
      expect((await catalog.claimBlobDeletions([stuck.key], 'sweep', 60_000)).claimed).toEqual([stuck.key])
    })

    it('several processes: leasing a batch never deadlocks with renewals of the same records; a record held elsewhere is busy, not lost', async () => {
      const catalog = ctx.catalog()
      const [leaser, renewer] = [await ctx.open(), await ctx.open()]
      const ids = await seed(catalog, 12)
      expect(await catalog.claim({ owner: 'w', limit: 12, leaseMs: 60_000, crashLimit: 8 })).toHaveLength(12)
      for (let round = 0; round < 15; round++) {
        // Each side goes through the records in an order of its own.
        const order = [...ids].sort(() => Math.random() - 0.5)
        const [answers] = await Promise.all([
          leaser.leaseBlobs(order.map((id) => ({ mediaId: id, owner: 'w', blobKey: newKey().key }))),
          renewer.renewLeases([...ids].reverse(), 'w', 60_000),
          renewer.renewLeases([...ids].sort(), 'w', 60_000),
        ])
        expect(answers.every((a) => a === 'leased' || a === 'busy'), answers.join()).toBe(true)
      }
    })

    it('several processes: a lease and a claim on one key never both succeed', async () => {
      const [leaser, claimer] = [await ctx.open(), await ctx.open()]
      const catalog = ctx.catalog()
      for (let round = 0; round < 40; round++) {
        const id = await captured(catalog, 'w')
        const { key } = newKey()
        const [[answer], claim] = await Promise.all([leaser.leaseBlobs([{ mediaId: id, owner: 'w', blobKey: key }]), claimer.claimBlobDeletions([key], `eraser-${round}`, 60_000)])
        if (answer === 'leased') expect(claim, `round ${round}`).toMatchObject({ claimed: [], leased: [key] })
        else expect({ answer, claimed: claim.claimed }, `round ${round}`).toEqual({ answer: 'deleting', claimed: [key] })
        await catalog.markDeleted([id])
      }
    })
  })
}
