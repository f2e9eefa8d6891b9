/** settle: each outcome, and only for the lease owner. */
import { describe, expect, it } from 'vitest'
import type { ConformanceContext } from '../conformance.js'
import { seed } from '../fixtures.js'
import { stored } from './claim.js'

export function settleTests(ctx: ConformanceContext): void {
  describe('settle', () => {
    it('settleMany: applies each outcome in one call, refusing the one whose lease is gone', async () => {
      const catalog = ctx.catalog()
      const [a, b, c] = await seed(catalog, 3)
      await catalog.claim({ owner: 'w', limit: 3, leaseMs: 60_000, crashLimit: 8 })
      const applied = await catalog.settleMany([
        { id: a!, owner: 'w', settlement: stored() },
        { id: b!, owner: 'someone-else', settlement: stored() },
        { id: c!, owner: 'w', settlement: { status: 'failed', error: { code: 'auth', message: 'token' } } },
      ])
      expect(applied).toEqual([true, false, true])
      expect((await catalog.get(a!))!.status).toBe('stored')
      expect((await catalog.get(b!))!).toMatchObject({ status: 'pending', leaseOwner: 'w' })
      expect((await catalog.get(c!))!.error).toMatchObject({ code: 'auth' })
      expect(await catalog.settleMany([])).toEqual([])
    })

    it('settleMany: a group of every kind of outcome applies each as settle would, refusing only the rows whose lease is gone', async () => {
      const catalog = ctx.catalog()
      const ids = await seed(catalog, 9)
      expect(await catalog.claim({ owner: 'w', limit: 9, leaseMs: 60_000, crashLimit: 8 })).toHaveLength(9)
      const [done, a, b, c, d, e, f, g, h] = ids as [string, ...string[]]
      expect(await catalog.settle(done, 'w', { status: 'failed', error: { code: 'auth', message: 'token' } })).toBe(true)
      const error = { code: 'network', message: 'reset', vendorCode: 131_000 }
      const later = new Date(Date.now() + 60_000)
      const storedAt = new Date('2031-05-06T07:08:09.010Z')
      const big = stored({ sha256: 'b'.repeat(64), size: 5_000_000_000 })
      const applied = await catalog.settleMany([
        { id: a!, owner: 'w', settlement: stored() },
        { id: b!, owner: 'someone-else', settlement: stored() },
        { id: c!, owner: 'w', settlement: { status: 'retry', error, nextAttemptAt: later, refundAttempt: true } },
        { id: d!, owner: 'w', settlement: { status: 'retry', error, nextAttemptAt: later } },
        { id: e!, owner: 'someone-else', settlement: { status: 'retry', error, nextAttemptAt: later, refundAttempt: true } },
        { id: f!, owner: 'w', settlement: { status: 'failed', error: { code: 'auth', message: 'token' } } },
        { id: g!, owner: 'w', settlement: { ...big, sniffedMime: null, storedAt } },
        { id: done, owner: 'w', settlement: stored() },
        { id: h!, owner: 'w', settlement: { status: 'retry', error, nextAttemptAt: later, refundAttempt: true } },
      ])
      expect(applied).toEqual([true, false, true, true, false, true, true, false, true])
      expect(await catalog.get(a!)).toMatchObject({ status: 'stored', leaseOwner: null, leaseExpiresAt: null, error: null, sha256: 'a'.repeat(64) })
      for (const refused of [b!, e!]) expect(await catalog.get(refused)).toMatchObject({ status: 'pending', leaseOwner: 'w', attempts: 1, error: null })
      for (const refunded of [c!, h!]) expect(await catalog.get(refunded)).toMatchObject({ status: 'pending', attempts: 0, error, nextAttemptAt: later, leaseOwner: null })
      expect(await catalog.get(d!)).toMatchObject({ status: 'pending', attempts: 1, error, nextAttemptAt: later, leaseOwner: null })
      expect(await catalog.get(f!)).toMatchObject({ status: 'failed', error: { code: 'auth' }, nextAttemptAt: null })
      expect(await catalog.get(g!)).toMatchObject({ status: 'stored', size: big.size, blobKey: big.blobKey, sniffedMime: null, mimeType: 'image/jpeg', storedAt })
      expect(await catalog.get(done)).toMatchObject({ status: 'failed', sha256: null })
      const counts = await catalog.counts()
      const count = (status: string) => counts.filter((row) => row.status === status).reduce((sum, row) => sum + row.count, 0)
      expect([count('stored'), count('failed'), count('pending')]).toEqual([2, 2, 5])
    })

    it('settleAndClaim: settles like settleMany and claims like claim, in one call', async () => {
      const catalog = ctx.catalog()
      const ids = await seed(catalog, 5)
      const [a, b] = (await catalog.claim({ owner: 'w', limit: 2, leaseMs: 60_000, crashLimit: 8 })).map((m) => m.id)
      const { applied, claimed } = await catalog.settleAndClaim(
        [
          { id: a!, owner: 'w', settlement: stored() },
          { id: b!, owner: 'someone-else', settlement: stored() },
        ],
        { owner: 'w', limit: 2, leaseMs: 60_000, crashLimit: 8 },
      )
      expect(applied).toEqual([true, false])
      // The claim is independent of the refusal: oldest due first, leased, attempts counted.
      expect(claimed.map((m) => m.id)).toEqual(ids.slice(2, 4))
      expect(claimed.every((m) => m.status === 'pending' && m.leaseOwner === 'w' && m.attempts === 1)).toBe(true)
      expect((await catalog.get(a!))!).toMatchObject({ status: 'stored', leaseOwner: null })
      expect((await catalog.get(b!))!).toMatchObject({ status: 'pending', leaseOwner: 'w' })
      expect((await catalog.get(ids[4]!))!).toMatchObject({ leaseOwner: null, attempts: 0 })
      // No slot to refill: a settlement alone.
      expect(await catalog.settleAndClaim([{ id: claimed[0]!.id, owner: 'w', settlement: stored() }], { owner: 'w', limit: 0, leaseMs: 60_000, crashLimit: 8 })).toEqual({ applied: [true], claimed: [] })
    })

    it('settleAndClaim gives up on crashed jobs as claim does, and never hands a job to two concurrent callers', async () => {
      const catalog = ctx.catalog()
      const [crashed] = await seed(catalog, 1)
      const t0 = Date.now() + 1000
      expect((await catalog.claim({ owner: 'gone', limit: 1, leaseMs: 1000, crashLimit: 1, now: new Date(t0) })).map((m) => m.id)).toEqual([crashed])
      const ids = await seed(catalog, 40)
      const workers = await Promise.all(['x', 'y', 'z'].map(async (owner) => ({ owner, catalog: await ctx.open() })))
      const got: string[] = []
      await Promise.all(
        workers.map(async ({ owner, catalog: c }) => {
          let held: string[] = []
          for (let round = 0; round < 40; round++) {
            const items = held.map((id) => ({ id, owner, settlement: stored() }))
            // Past the lease of `gone`, and a crash limit of 1: its unsettled attempt ends it (given up, not handed out).
            const { applied, claimed } = await c.settleAndClaim(items, { owner, limit: 3, leaseMs: 60_000, crashLimit: 1, now: new Date(t0 + 5000) })
            expect(applied).toEqual(held.map(() => true))
            got.push(...claimed.map((m) => m.id))
            held = claimed.map((m) => m.id)
            if (held.length === 0) return
          }
        }),
      )
      expect(got.sort()).toEqual([...ids].sort())
      expect((await catalog.get(crashed!))!).toMatchObject({ status: 'failed', error: { code: 'crashed' } })
      expect((await catalog.counts()).find((c) => c.status === 'stored')?.count).toBe(40)
    })

    it('retry: back to pending, due at nextAttemptAt, the error kept for visibility', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      const nextAttemptAt = new Date(Date.now() + 60_000)
      const error = { code: 'rate_limited', message: 'Graph 80007', vendorCode: 80007 }
      expect(await catalog.settle(id!, 'w', { status: 'retry', error, nextAttemptAt })).toBe(true)
      expect(await catalog.get(id!)).toMatchObject({ status: 'pending', error, nextAttemptAt, leaseOwner: null, leaseExpiresAt: null, attempts: 1 })
      expect(await catalog.claim({ owner: 'w', limit: 1, leaseMs: 1000, crashLimit: 8, now: new Date(nextAttemptAt.getTime() - 1) })).toEqual([])
      const [again] = await catalog.claim({ owner: 'w2', limit: 1, leaseMs: 1000, crashLimit: 8, now: nextAttemptAt })
      expect(again).toMatchObject({ id, attempts: 2, error, leaseOwner: 'w2' })
    })

    it('retry with refundAttempt: the attempt handed back does not count against the budget', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      const error = { code: 'network', message: 'the worker is stopping' }
      const t = Date.now() + 1000
      // With a budget of one, a job handed back at every shutdown still gets its one real attempt.
      for (let round = 0; round < 3; round++) {
        const [job] = await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 1, now: new Date(t) })
        expect(job).toMatchObject({ id, attempts: 1 })
        expect(await catalog.settle(id!, 'w', { status: 'retry', error, nextAttemptAt: new Date(t), refundAttempt: true })).toBe(true)
        expect(await catalog.get(id!)).toMatchObject({ status: 'pending', attempts: 0, error, leaseOwner: null, leaseExpiresAt: null })
      }
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8, now: new Date(t) })
      expect(await catalog.settleMany([{ id: id!, owner: 'w', settlement: { status: 'retry', error, nextAttemptAt: new Date(t), refundAttempt: false } }])).toEqual([true])
      expect((await catalog.get(id!))!.attempts).toBe(1)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8, now: new Date(t) })
      expect(await catalog.settleMany([{ id: id!, owner: 'w', settlement: { status: 'retry', error, nextAttemptAt: new Date(t), refundAttempt: true } }])).toEqual([true])
      expect((await catalog.get(id!))!.attempts).toBe(1)
      // Refused without the lease, like any settlement: nothing is given back.
      expect(await catalog.settle(id!, 'w', { status: 'retry', error, nextAttemptAt: new Date(t), refundAttempt: true })).toBe(false)
      expect((await catalog.get(id!))!.attempts).toBe(1)
    })

    it('stored: records what was found, clears error, lease and schedule', async () => {
      const catalog = ctx.catalog()
      const [a, b] = await seed(catalog, 2)
      await catalog.claim({ owner: 'w', limit: 2, leaseMs: 60_000, crashLimit: 8 })
      await catalog.settle(a!, 'w', { status: 'retry', error: { code: 'network', message: 'reset' }, nextAttemptAt: new Date() })
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8, now: new Date(Date.now() + 10) })
      const storedAt = new Date('2031-05-06T07:08:09.010Z')
      const big = 5_000_000_000
      expect(await catalog.settle(a!, 'w', { ...stored({ size: big }), sniffedMime: null, mimeType: 'image/jpeg', storedAt })).toBe(true)
      expect(await catalog.get(a!)).toMatchObject({
        status: 'stored',
        sha256: 'a'.repeat(64),
        size: big,
        blobKey: `sha256/aa/aa/${'a'.repeat(64)}`,
        sniffedMime: null,
        mimeType: 'image/jpeg',
        storedAt,
        error: null,
        nextAttemptAt: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        attempts: 2,
      })
      const before = Date.now()
      expect(await catalog.settle(b!, 'w', stored({ sha256: 'b'.repeat(64) }))).toBe(true)
      const settled = (await catalog.get(b!))!
      expect(settled.storedAt!.getTime()).toBeGreaterThanOrEqual(before)
      expect(settled.updatedAt.getTime()).toBeGreaterThanOrEqual(before)
    })

    it('failed: records the error and leaves the queue', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      const error = { code: 'storage', message: 'bucket missing', vendorCode: 'NoSuchBucket' }
      expect(await catalog.settle(id!, 'w', { status: 'failed', error })).toBe(true)
      expect(await catalog.get(id!)).toMatchObject({ status: 'failed', error, nextAttemptAt: null, leaseOwner: null })
      expect(await catalog.claim({ owner: 'w', limit: 1, leaseMs: 1000, crashLimit: 8, now: new Date(Date.now() + 3_600_000) })).toEqual([])
      expect(await catalog.nextDueAt()).toBeNull()
    })

    it('returns false, changing nothing, for a caller without the lease', async () => {
      const catalog = ctx.catalog()
      const [leased, free] = await seed(catalog, 2)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8, now: new Date(Date.now() + 1) })
      const before = (await catalog.get(leased!))!
      expect(before.leaseOwner).toBe('w')
      expect(await catalog.settle(free!, 'w', stored())).toBe(false)
      expect(await catalog.settle(leased!, 'someone-else', stored())).toBe(false)
      expect(await catalog.get(leased!)).toEqual(before)
      expect(await catalog.settle(leased!, 'w', stored())).toBe(true)
      // Settled: the lease is gone, so a second settlement is refused too.
      expect(await catalog.settle(leased!, 'w', { status: 'failed', error: { code: 'internal', message: 'x' } })).toBe(false)
      expect((await catalog.get(leased!))!.status).toBe('stored')
      expect(await catalog.settle('med_00000000000000000000000000', 'w', stored())).toBe(false)
    })
  })
}
