/** Dashboard sessions: created, seen from another connection, ended everywhere, expired ones cleaned up. */
import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { EXPIRED_SESSIONS_PER_SIGN_IN } from '../../../src/catalog/session-plans.js'
import type { ConformanceContext } from '../conformance.js'

const HOUR = 60 * 60 * 1000
const newHash = () => createHash('sha256').update(randomBytes(16)).digest('hex')

export function sessionTests(ctx: ConformanceContext): void {
  describe('dashboard sessions', () => {
    it('a session is active until it expires, and unknown sessions never are', async () => {
      const catalog = ctx.catalog()
      const now = Date.now()
      const idHash = newHash()
      await catalog.createSession({ idHash, createdAt: new Date(now), expiresAt: new Date(now + HOUR) })
      expect(await catalog.sessionActive(idHash)).toBe(true)
      expect(await catalog.sessionActive(idHash, new Date(now + HOUR - 1))).toBe(true)
      expect(await catalog.sessionActive(idHash, new Date(now + HOUR))).toBe(false)
      expect(await catalog.sessionActive(newHash())).toBe(false)
    })

    it('ending a session through one connection ends it for every other one, once', async () => {
      const catalog = ctx.catalog()
      const other = await ctx.open()
      const now = Date.now()
      const [a, b] = [newHash(), newHash()]
      for (const idHash of [a, b]) await catalog.createSession({ idHash, createdAt: new Date(now), expiresAt: new Date(now + HOUR) })
      expect(await other.sessionActive(a)).toBe(true)
      expect(await other.endSession(a)).toBe(true)
      expect(await catalog.sessionActive(a)).toBe(false)
      expect(await other.sessionActive(a)).toBe(false)
      expect(await catalog.endSession(a)).toBe(false)
      expect(await catalog.sessionActive(b)).toBe(true)
    })

    it('a sign-in removes expired sessions, a bounded number at a time, and leaves live ones', async () => {
      const catalog = ctx.catalog()
      const now = Date.now()
      const expired = Array.from({ length: EXPIRED_SESSIONS_PER_SIGN_IN + 5 }, (_, i) => ({ idHash: newHash(), createdAt: new Date(now - 2 * HOUR), expiresAt: new Date(now - HOUR + i) }))
      // Created in the past, so their own sign-ins find nothing expired yet.
      for (const s of expired) await catalog.createSession(s)
      const live = newHash()
      await catalog.createSession({ idHash: live, createdAt: new Date(now - HOUR - 1), expiresAt: new Date(now + HOUR) })

      await catalog.createSession({ idHash: newHash(), createdAt: new Date(now), expiresAt: new Date(now + HOUR) })
      // The oldest expired ones went first; the rest wait for the next sign-in.
      const stillThere = async () => {
        let n = 0
        for (const s of expired) if (await catalog.sessionActive(s.idHash, new Date(0))) n++
        return n
      }
      expect(await stillThere()).toBe(5)
      expect(await catalog.sessionActive(expired.at(-1)!.idHash, new Date(0))).toBe(true)
      await catalog.createSession({ idHash: newHash(), createdAt: new Date(now), expiresAt: new Date(now + HOUR) })
      expect(await stillThere()).toBe(0)
      expect(await catalog.sessionActive(live)).toBe(true)
    })

    it('refuses a second session with the same id hash', async () => {
      const catalog = ctx.catalog()
      const now = Date.now()
      const idHash = newHash()
      await catalog.createSession({ idHash, createdAt: new Date(now), expiresAt: new Date(now + HOUR) })
      await expect(catalog.createSession({ idHash, createdAt: new Date(now), expiresAt: new Date(now + 2 * HOUR) })).rejects.toMatchObject({ code: 'catalog' })
    })
  })
}
