/** Claiming: order, leases, exclusivity under concurrency, expiry, and when the next job is due. */
import { describe, expect, it } from 'vitest'
import type { MediaRecord } from '../../../src/media/record.js'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { newMedia, seed, webhook } from '../fixtures.js'

export function claimTests(ctx: ConformanceContext): void {
  describe('claim', () => {
    it('leases the oldest due jobs first, counting the attempt', async () => {
      const catalog = ctx.catalog()
      const ids = [...(await seed(catalog, 1)), ...(await seed(catalog, 1)), ...(await seed(catalog, 1))]
      const now = new Date(Date.now() + 1000)
      const claimed = await catalog.claim({ owner: 'worker-a', limit: 2, leaseMs: 30_000, crashLimit: 8, now })
      expect(claimed.map((m) => m.id)).toEqual(ids.slice(0, 2))
      for (const m of claimed) {
        expect(m).toMatchObject({ status: 'pending', attempts: 1, leaseOwner: 'worker-a', leaseExpiresAt: new Date(now.getTime() + 30_000) })
        expect(await catalog.get(m.id)).toEqual(m)
      }
      const rest = await catalog.claim({ owner: 'worker-b', limit: 5, leaseMs: 30_000, crashLimit: 8, now })
      expect(rest.map((m) => m.id)).toEqual(ids.slice(2))
      expect(await catalog.claim({ owner: 'worker-b', limit: 5, leaseMs: 30_000, crashLimit: 8, now })).toEqual([])
      expect(await catalog.claim({ owner: 'worker-b', limit: 0, leaseMs: 30_000, crashLimit: 8, now })).toEqual([])
    })

    it('does not lease jobs before they are due', async () => {
      const catalog = ctx.catalog()
      await seed(catalog, 2)
      expect(await catalog.claim({ owner: 'w', limit: 5, leaseMs: 1000, crashLimit: 8, now: new Date(Date.now() - 60_000) })).toEqual([])
    })

    it('never gives one job to two of several concurrent claimers', async () => {
      const catalog = ctx.catalog()
      const batch = Array.from({ length: 10 }, () => webhook(Array.from({ length: 20 }, (_, i) => newMedia({ attachmentIndex: i }))))
      const recorded = await catalog.recordWebhooks(batch)
      const all = recorded.flatMap((r) => r.created.map((m) => m.id))
      expect(all).toHaveLength(200)
      const claimers = await Promise.all([0, 1, 2, 3].map(() => ctx.open()))
      const now = new Date(Date.now() + 1000)
      const drain = async (claimer: TestCatalog, owner: string): Promise<MediaRecord[]> => {
        const got: MediaRecord[] = []
        for (let round = 0; round < 200; round++) {
          const batch = await claimer.claim({ owner, limit: 7, leaseMs: 60_000, crashLimit: 8, now })
          if (batch.length === 0) break
          got.push(...batch)
        }
        return got
      }
      const results = await Promise.all(claimers.map((c, i) => drain(c, `worker-${i}`)))
      const claimedIds = results.flat().map((m) => m.id)
      expect(claimedIds).toHaveLength(200)
      expect(new Set(claimedIds).size).toBe(200)
      expect([...claimedIds].sort()).toEqual([...all].sort())
      for (const [i, got] of results.entries()) {
        for (const m of got) expect(m).toMatchObject({ attempts: 1, leaseOwner: `worker-${i}` })
      }
    })

    it('an expired lease lets another owner claim; the old owner can then neither renew nor settle', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      const t0 = Date.now() + 1000
      const [first] = await catalog.claim({ owner: 'a', limit: 1, leaseMs: 1000, crashLimit: 8, now: new Date(t0) })
      expect(first!.id).toBe(id)
      expect(await catalog.claim({ owner: 'b', limit: 1, leaseMs: 1000, crashLimit: 8, now: new Date(t0 + 999) })).toEqual([])
      const [second] = await catalog.claim({ owner: 'b', limit: 1, leaseMs: 60_000, crashLimit: 8, now: new Date(t0 + 1000) })
      expect(second).toMatchObject({ id, attempts: 2, leaseOwner: 'b' })
      expect(await catalog.renewLeases([id!], 'a', 60_000)).toEqual([])
      expect(await catalog.settle(id!, 'a', { status: 'failed', error: { code: 'network', message: 'late' } })).toBe(false)
      expect(await catalog.settle(id!, 'b', stored())).toBe(true)
      expect(await catalog.get(id!)).toMatchObject({ status: 'stored', leaseOwner: null, leaseExpiresAt: null })
    })

    it('gives up on a job whose attempts never finish: failed as crashed after exactly crashLimit claims', async () => {
      const catalog = ctx.catalog()
      const [id, other] = await seed(catalog, 2)
      const crashLimit = 8
      const leaseMs = 1000
      let t = Date.now() + 1000
      // Each claim's lease runs out unsettled, as when the capture crashes or hangs the process.
      for (let attempt = 1; attempt <= crashLimit; attempt++) {
        const claimed = await catalog.claim({ owner: `w${attempt}`, limit: 1, leaseMs, crashLimit, now: new Date(t) })
        expect(claimed.map((m) => m.id)).toEqual([id])
        expect(claimed[0]).toMatchObject({ attempts: attempt, leaseOwner: `w${attempt}` })
        t += leaseMs
      }
      // The crashed job is not handed out; the claim takes the next one instead, in the same call.
      const next = await catalog.claim({ owner: 'w9', limit: 1, leaseMs: 60_000, crashLimit, now: new Date(t) })
      expect(next.map((m) => m.id)).toEqual([other])
      expect(await catalog.settle(other!, 'w9', stored())).toBe(true)
      const failed = await catalog.get(id!)
      expect(failed).toMatchObject({ status: 'failed', attempts: crashLimit, nextAttemptAt: null, leaseOwner: null, leaseExpiresAt: null, updatedAt: new Date(t) })
      expect(failed!.error).toEqual({ code: 'crashed', message: 'gave up after 8 attempts in a row that never finished (the process crashed, hung or lost its lease)' })
      // Never again, whatever the limit, and the last owner's late settlement is refused.
      expect(await catalog.claim({ owner: 'w10', limit: 5, leaseMs: 1000, crashLimit: 100, now: new Date(t + 3_600_000) })).toEqual([])
      expect(await catalog.settle(id!, `w${crashLimit}`, stored())).toBe(false)
      expect((await catalog.get(id!))!.status).toBe('failed')
      expect((await catalog.summary(new Date(t - 1))).failedSince).toEqual([{ code: 'crashed', count: 1 }])
    })

    it('counts only unfinished attempts in a row: a settlement starts the count again', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      const leaseMs = 1000
      let t = Date.now() + 1000
      const claim = async (owner: string) => (await catalog.claim({ owner, limit: 1, leaseMs, crashLimit: 2, now: new Date(t) })).map((m) => m.id)
      expect(await claim('a')).toEqual([id]) // its lease will run out: one unfinished
      t += leaseMs
      expect(await claim('b')).toEqual([id])
      // b settles (a transient failure): the count starts again.
      expect(await catalog.settle(id!, 'b', { status: 'retry', error: { code: 'upstream', message: '503' }, nextAttemptAt: new Date(t) })).toBe(true)
      expect(await claim('c')).toEqual([id])
      t += leaseMs
      expect(await claim('d')).toEqual([id]) // c ran out: one unfinished, under the limit of two
      t += leaseMs
      expect(await claim('e')).toEqual([]) // d ran out too: two in a row
      expect(await catalog.get(id!)).toMatchObject({ status: 'failed', attempts: 4, error: { code: 'crashed' } })
    })

    it('concurrent claimers give up on each crashed job once and hand out each fresh job once', async () => {
      const catalog = ctx.catalog()
      const t = Date.now() + 1000
      const crashed = await seed(catalog, 30)
      // One attempt each, whose leases then run out: with a limit of one, they have crashed.
      expect(await catalog.claim({ owner: 'crashed', limit: 100, leaseMs: 1000, crashLimit: 1, now: new Date(t) })).toHaveLength(30)
      const fresh = await seed(catalog, 30)
      const claimers = await Promise.all([0, 1, 2].map(() => ctx.open()))
      const drain = async (claimer: TestCatalog, owner: string): Promise<string[]> => {
        const got: string[] = []
        for (let round = 0; round < 100; round++) {
          const batch = await claimer.claim({ owner, limit: 4, leaseMs: 60_000, crashLimit: 1, now: new Date(t + 1000) })
          got.push(...batch.map((m) => m.id))
          // Done when nothing is due any more at this claim's time (only the fresh jobs' leases are left).
          if (batch.length === 0 && ((await claimer.nextDueAt())?.getTime() ?? Infinity) > t + 1000) break
        }
        return got
      }
      const claimed = (await Promise.all(claimers.map((c, i) => drain(c, `worker-${i}`)))).flat()
      expect([...claimed].sort()).toEqual([...fresh].sort())
      for (const id of crashed) expect(await catalog.get(id)).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'crashed' } })
    })

    it('attempts that settled never count against the crash limit, and a limit below one is refused', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      const t = Date.now() + 1000
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [job] = await catalog.claim({ owner: 'w', limit: 1, leaseMs: 1000, crashLimit: 1, now: new Date(t) })
        expect(job).toMatchObject({ id, attempts: attempt })
        expect(await catalog.settle(id!, 'w', { status: 'retry', error: { code: 'network', message: 'reset' }, nextAttemptAt: new Date(t) })).toBe(true)
      }
      await expect(catalog.claim({ owner: 'w', limit: 1, leaseMs: 1000, crashLimit: 0 })).rejects.toMatchObject({ code: 'internal' })
      await expect(catalog.claimForwards({ owner: 'w', limit: 1, leaseMs: 1000, crashLimit: 1.5 })).rejects.toMatchObject({ code: 'internal' })
    })

    it('renewLeases extends only the leases the owner still holds', async () => {
      const catalog = ctx.catalog()
      const [x, y, z] = await seed(catalog, 3)
      await catalog.claim({ owner: 'a', limit: 2, leaseMs: 1000, crashLimit: 8 })
      await catalog.claim({ owner: 'b', limit: 1, leaseMs: 1000, crashLimit: 8 })
      const before = Date.now()
      const renewed = await catalog.renewLeases([x!, y!, z!, 'med_00000000000000000000000000'], 'a', 120_000)
      expect([...renewed].sort()).toEqual([x!, y!].sort())
      const lease = (await catalog.get(x!))!.leaseExpiresAt!.getTime()
      expect(lease).toBeGreaterThanOrEqual(before + 120_000)
      expect((await catalog.get(z!))!.leaseExpiresAt!.getTime()).toBeLessThan(before + 2000)
      expect(await catalog.renewLeases([], 'a', 1000)).toEqual([])
    })

    it('nextDueAt follows due times and leases', async () => {
      const catalog = ctx.catalog()
      expect(await catalog.nextDueAt()).toBeNull()
      const before = Date.now()
      const [id] = await seed(catalog, 1)
      const due = (await catalog.nextDueAt())!.getTime()
      expect(due).toBeGreaterThanOrEqual(before)
      expect(due).toBeLessThanOrEqual(Date.now())
      const [claimed] = await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      expect(await catalog.nextDueAt()).toEqual(claimed!.leaseExpiresAt)
      const retryAt = new Date(Date.now() + 90_000)
      await catalog.settle(id!, 'w', { status: 'retry', error: { code: 'network', message: 'reset' }, nextAttemptAt: retryAt })
      expect(await catalog.nextDueAt()).toEqual(retryAt)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 1000, crashLimit: 8, now: retryAt })
      await catalog.settle(id!, 'w', stored())
      expect(await catalog.nextDueAt()).toBeNull()
    })
  })
}

export function stored(overrides: Partial<{ sha256: string; size: number; blobKey: string }> = {}) {
  const sha256 = overrides.sha256 ?? 'a'.repeat(64)
  return {
    status: 'stored' as const,
    sha256,
    size: overrides.size ?? 1234,
    blobKey: overrides.blobKey ?? `sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`,
    sniffedMime: 'image/jpeg',
    mimeType: 'image/jpeg',
  }
}
