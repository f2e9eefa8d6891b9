/** Migrations, reopening, readiness and failure of the catalog as a whole. */
import { describe, expect, it } from 'vitest'
import { MediagateError } from '../../../src/errors.js'
import { LATEST_VERSION } from '../../../src/catalog/migrations/index.js'
import type { ConformanceContext } from '../conformance.js'
import { newMedia, seed, webhook } from '../fixtures.js'

export function lifecycleTests(ctx: ConformanceContext): void {
  describe('migrations', () => {
    it('are idempotent, also when several catalogs migrate at once', async () => {
      const others = await Promise.all([ctx.open(), ctx.open(), ctx.open()])
      await Promise.all([ctx.catalog().migrate(), ...others.map((c) => c.migrate())])
      await Promise.all(others.map((c) => c.migrate()))
      for (const c of [ctx.catalog(), ...others]) expect(await c.schemaVersion()).toBe(LATEST_VERSION)
      const [id] = await seed(others[0]!, 1)
      expect((await ctx.catalog().get(id!))?.status).toBe('pending')
    })

    it('a fresh database is at version 0 until migrated, concurrently from cold', async () => {
      const catalog = ctx.catalog()
      await catalog.migrateTo(0)
      const others = await Promise.all([ctx.open(), ctx.open()])
      expect(await others[0]!.schemaVersion()).toBe(0)
      await Promise.all([catalog.migrate(), ...others.map((c) => c.migrate())])
      expect(await others[1]!.schemaVersion()).toBe(LATEST_VERSION)
    })

    it('round-trip: down to 0 removes the tables, up again gives a working empty catalog', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 2)
      expect(await catalog.migrateTo(0)).toEqual({ from: LATEST_VERSION, to: 0 })
      expect(await catalog.schemaVersion()).toBe(0)
      await expect(catalog.get(id!)).rejects.toMatchObject({ code: 'catalog' })
      await catalog.migrate()
      expect(await catalog.schemaVersion()).toBe(LATEST_VERSION)
      expect(await catalog.get(id!)).toBeUndefined()
      expect(await catalog.counts()).toEqual([])
      expect(await seed(catalog, 1)).toHaveLength(1)
    })

    it('refuses a version it does not know', async () => {
      await expect(ctx.catalog().migrateTo(LATEST_VERSION + 1)).rejects.toMatchObject({ code: 'invalid_config' })
    })
  })

  describe('lifecycle', () => {
    it('keeps everything across close and reopen', async () => {
      const first = ctx.catalog()
      const [recorded] = await first.recordWebhooks([webhook([newMedia(), newMedia({ platform: 'messenger', sourceMediaId: null })])])
      const [claimed] = await first.claim({ owner: 'w1', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      const before = await Promise.all(recorded!.created.map((m) => first.get(m.id)))
      await first.close()

      const reopened = await ctx.open()
      await reopened.migrate()
      const after = await Promise.all(recorded!.created.map((m) => reopened.get(m.id)))
      expect(after).toEqual(before)
      expect(after.find((m) => m?.id === claimed!.id)?.leaseOwner).toBe('w1')
      expect(await reopened.getWebhookBody(recorded!.webhookId)).toBeDefined()
    })

    it('ping answers while open; a closed catalog fails with a catalog error', async () => {
      const catalog = await ctx.open()
      await expect(catalog.ping()).resolves.toBeUndefined()
      await catalog.close()
      await catalog.close()
      const err = await catalog.get('med_01J00000000000000000000000').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(MediagateError)
      expect(err).toMatchObject({ code: 'catalog', status: 503, retryable: true })
      await expect(catalog.ping()).rejects.toMatchObject({ code: 'catalog' })
    })
  })
}
