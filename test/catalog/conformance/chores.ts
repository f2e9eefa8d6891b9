/**
 * Periodic chores (migration 14): the orphan scan is claimed once per interval across every
 * connection (process) sharing the catalog, one of several racing claimants wins, a claim given
 * back is due at once, and a claim by hand (`everyMs` 0) restarts the interval.
 */
import { describe, expect, it } from 'vitest'
import type { ConformanceContext } from '../conformance.js'

const HOUR = 60 * 60 * 1000
const at = (ms: number) => new Date(ms)

export function choreTests(ctx: ConformanceContext): void {
  describe('chores', () => {
    it('a chore is claimed once per interval, whichever connection asks', async () => {
      const a = ctx.catalog()
      const b = await ctx.open()
      const t0 = Date.now()
      expect(await a.claimChore('orphan_scan', 'a', HOUR, at(t0))).toBe(true)
      expect(await b.claimChore('orphan_scan', 'b', HOUR, at(t0 + HOUR - 1))).toBe(false)
      expect(await a.claimChore('orphan_scan', 'a', HOUR, at(t0 + HOUR - 1))).toBe(false)
      expect(await b.claimChore('orphan_scan', 'b', HOUR, at(t0 + HOUR))).toBe(true)
      // The interval runs from the latest start, on every connection.
      expect(await a.claimChore('orphan_scan', 'a', HOUR, at(t0 + HOUR + 1))).toBe(false)
      expect(await a.claimChore('orphan_scan', 'a', HOUR, at(t0 + 2 * HOUR))).toBe(true)
    })

    it('of connections racing for a due chore, exactly one claims it, round after round', async () => {
      const racers = [ctx.catalog(), ...(await Promise.all([1, 2, 3, 4, 5].map(() => ctx.open())))]
      const t0 = Date.now()
      for (let round = 0; round < 5; round++) {
        const now = at(t0 + round * HOUR)
        const won = await Promise.all(racers.map((c, i) => c.claimChore('orphan_scan', `racer-${i}`, HOUR, now)))
        expect(won.filter(Boolean)).toHaveLength(1)
      }
    })

    it('exactly one claims it when the racers\' clocks read a few milliseconds apart', async () => {
      const racers = [ctx.catalog(), ...(await Promise.all([1, 2, 3, 4, 5].map(() => ctx.open())))]
      const t0 = Date.now()
      for (let round = 0; round < 5; round++) {
        // Whoever commits first, those behind it see a start slightly in their future.
        const won = await Promise.all(racers.map((c, i) => c.claimChore('orphan_scan', `racer-${i}`, HOUR, at(t0 + round * HOUR + (i % 2 === 0 ? i : -i)))))
        expect(won.filter(Boolean)).toHaveLength(1)
      }
    })

    it('the holder gives the claim back and it is due at once; no one else can give it back', async () => {
      const a = ctx.catalog()
      const b = await ctx.open()
      const t0 = Date.now()
      expect(await a.claimChore('orphan_scan', 'a', HOUR, at(t0))).toBe(true)
      expect(await b.releaseChore('orphan_scan', 'b')).toBe(false)
      expect(await b.claimChore('orphan_scan', 'b', HOUR, at(t0 + 1))).toBe(false)
      expect(await a.releaseChore('orphan_scan', 'a')).toBe(true)
      expect(await b.claimChore('orphan_scan', 'b', HOUR, at(t0 + 1))).toBe(true)
      // A's claim is over: it cannot give back B's.
      expect(await a.releaseChore('orphan_scan', 'a')).toBe(false)
      expect(await a.claimChore('orphan_scan', 'a', HOUR, at(t0 + 2))).toBe(false)
    })

    it('everyMs 0 claims whenever (a run by hand), and the interval runs from it', async () => {
      const a = ctx.catalog()
      const t0 = Date.now()
      expect(await a.claimChore('orphan_scan', 'worker', HOUR, at(t0))).toBe(true)
      expect(await a.claimChore('orphan_scan', 'by-hand', 0, at(t0 + 10))).toBe(true)
      expect(await a.claimChore('orphan_scan', 'by-hand', 0, at(t0 + 10))).toBe(true)
      expect(await a.claimChore('orphan_scan', 'worker', HOUR, at(t0 + HOUR))).toBe(false)
      expect(await a.claimChore('orphan_scan', 'worker', HOUR, at(t0 + HOUR + 10))).toBe(true)
    })

    it('a start over an interval in the future (left by a clock since set back) counts as due; a nearer one holds', async () => {
      const a = ctx.catalog()
      const t0 = Date.now()
      expect(await a.claimChore('orphan_scan', 'ahead', HOUR, at(t0 + HOUR + 1))).toBe(true)
      expect(await a.claimChore('orphan_scan', 'now', HOUR, at(t0))).toBe(true)
      expect(await a.claimChore('orphan_scan', 'ahead', HOUR, at(t0 + 1))).toBe(false)
      expect(await a.claimChore('orphan_scan', 'ahead', HOUR, at(t0 + HOUR))).toBe(true)
      expect(await a.claimChore('orphan_scan', 'behind', HOUR, at(t0 + 1))).toBe(false)
    })

    it('without `now` the start is stamped on the catalog\'s clock', async () => {
      const a = ctx.catalog()
      const b = await ctx.open()
      expect(await a.claimChore('orphan_scan', 'a', HOUR)).toBe(true)
      expect(await b.claimChore('orphan_scan', 'b', HOUR)).toBe(false)
      // A minute either side of the stamp: far beyond the clock's error between the connections.
      expect(await b.claimChore('orphan_scan', 'b', HOUR, at(Date.now() + HOUR - 60_000))).toBe(false)
      expect(await b.claimChore('orphan_scan', 'b', HOUR, at(Date.now() + HOUR + 60_000))).toBe(true)
    })

    it('refuses an interval that is not a whole number of at least 0', async () => {
      await expect(ctx.catalog().claimChore('orphan_scan', 'a', -1)).rejects.toMatchObject({ code: 'internal' })
      await expect(ctx.catalog().claimChore('orphan_scan', 'a', 1.5)).rejects.toMatchObject({ code: 'internal' })
    })
  })
}
