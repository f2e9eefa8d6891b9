/**
 * Media counts kept by triggers (migration 12): after every kind of change to a record the
 * counts (and the summary's) equal a full recount; folding deltas into the base changes nothing,
 * whether a writer does it on its own, `compactCounts` does, or both race with other writers; a
 * catalog migrated to 12 with records in it counts them.
 */
import { describe, expect, it } from 'vitest'
import type { StatusCount } from '../../../src/catalog/catalog.js'
import { FOLD_EVERY } from '../../../src/catalog/migrations/0012_media_counts.js'
import type { NewMedia } from '../../../src/media/record.js'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { newMedia, seed, webhook } from '../fixtures.js'
import { stored } from './claim.js'

/** The counts as the old full scan gave them: every record listed, tallied by platform and status. */
async function recount(catalog: TestCatalog): Promise<StatusCount[]> {
  const tally = new Map<string, StatusCount>()
  let cursor: string | undefined
  for (let page = 0; page < 1000; page++) {
    const { data, nextCursor } = await catalog.list({}, { limit: 1000, ...(cursor ? { cursor } : {}) })
    for (const m of data) {
      const key = `${m.platform}\u0000${m.status}`
      const c = tally.get(key) ?? { platform: m.platform, status: m.status, count: 0 }
      c.count += 1
      tally.set(key, c)
    }
    if (!nextCursor) break
    cursor = nextCursor
  }
  return [...tally.values()].sort((a, b) => (a.platform + '\u0000' + a.status < b.platform + '\u0000' + b.status ? -1 : 1))
}

async function expectExact(catalog: TestCatalog, step: string): Promise<StatusCount[]> {
  const truth = await recount(catalog)
  expect(await catalog.counts(), step).toEqual(truth)
  expect((await catalog.summary(new Date())).counts, step).toEqual(truth)
  return truth
}

const infected = { code: 'infected', message: 'found Test.Sig', vendorCode: 'Test.Sig' }
const INFECTED = { status: 'infected' as const, engine: 'ClamAV 1.4.3/2/x', scannedAt: new Date('2030-01-02T00:00:00.000Z'), signature: 'Test.Sig', releasedAt: null }

function outbound(): NewMedia {
  return { ...newMedia(), accountId: '', messageId: '', senderId: null, direction: 'outbound', sourceType: 'upload', sourceMediaId: null }
}

export function countTests(ctx: ConformanceContext): void {
  describe('media counts', () => {
    it('equal a full recount after every kind of change to a record', async () => {
      const catalog = ctx.catalog()
      await expectExact(catalog, 'empty')
      const batch = [
        webhook([newMedia(), newMedia({ attachmentIndex: 1 })]),
        webhook([newMedia({ platform: 'messenger', sourceMediaId: null })]),
        webhook([newMedia({ platform: 'instagram', sourceMediaId: null })]),
      ]
      await catalog.recordWebhooks(batch)
      await expectExact(catalog, 'insert')
      const again = await catalog.recordWebhooks(batch)
      expect(again.every((r) => r.created.length === 0)).toBe(true)
      await expectExact(catalog, 'redelivery changes nothing')
      const [lazy, failedLazy] = [...(await seed(catalog, 1, { policy: 'lazy' })), ...(await seed(catalog, 1, { policy: 'lazy' }))]
      await seed(catalog, 1, { error: { code: 'meta_error', message: 'x' } })
      await expectExact(catalog, 'remote and failed on arrival')

      const claimed = await catalog.claim({ owner: 'w', limit: 10, leaseMs: 60_000, crashLimit: 8 })
      expect(claimed).toHaveLength(4)
      await expectExact(catalog, 'claim (status unchanged)')
      const [a, b, c, d] = claimed.map((m) => m.id)
      const shared = stored({ sha256: 'c'.repeat(64) })
      expect(await catalog.settle(a!, 'w', shared)).toBe(true)
      await expectExact(catalog, 'pending → stored')
      expect(await catalog.settle(b!, 'w', { status: 'failed', error: { code: 'auth', message: 'no' } })).toBe(true)
      await expectExact(catalog, 'pending → failed')
      expect(await catalog.settle(c!, 'w', { status: 'retry', error: { code: 'network', message: 'reset' }, nextAttemptAt: new Date(Date.now() + 60_000) })).toBe(true)
      await expectExact(catalog, 'retry (stays pending)')
      expect(await catalog.settleMany([{ id: d!, owner: 'w', settlement: shared }])).toEqual([true])
      await expectExact(catalog, 'settleMany')

      expect(await catalog.requeue({ ids: [b!] })).toBe(1)
      await expectExact(catalog, 'failed → pending by hand')
      expect(await catalog.failBlob(shared.blobKey, { code: 'corrupt', message: 'bad bytes' })).toBe(2)
      await expectExact(catalog, 'stored → failed (verify)')
      expect(await catalog.requeue({})).toBeGreaterThan(0)
      const again2 = await catalog.claim({ owner: 'w2', limit: 10, leaseMs: 60_000, crashLimit: 8, now: new Date(Date.now() + 120_000) })
      await catalog.settleMany(again2.map((m) => ({ id: m.id, owner: 'w2', settlement: shared })))
      await expectExact(catalog, 'requeued and stored again')
      expect((await catalog.quarantineBlob(shared.blobKey, 'quarantine/c.1', infected, INFECTED)).length).toBeGreaterThan(1)
      await expectExact(catalog, 'stored → failed (infected)')
      expect(await catalog.releaseInfected(a!, shared.blobKey)).toBeDefined()
      await expectExact(catalog, 'infected → stored (release)')

      expect(await catalog.storeRemote(lazy!, stored({ sha256: 'e'.repeat(64) }))).toBeDefined()
      await expectExact(catalog, 'remote → stored (lazy capture)')
      const bytes = { sha256: 'f'.repeat(64), size: 7, blobKey: 'k', sniffedMime: 'image/png', mimeType: 'image/png' }
      expect(await catalog.failRemote(failedLazy!, { error: infected, scan: INFECTED, bytes, blobKey: null })).toBeDefined()
      await expectExact(catalog, 'remote → failed (lazy capture infected)')
      const up = await catalog.recordOutbound(outbound())
      await expectExact(catalog, 'outbound upload recorded')
      expect(await catalog.storeRemote(up.id, stored({ sha256: '9'.repeat(64) }))).toBeDefined()
      await expectExact(catalog, 'outbound upload stored')

      expect(await catalog.markDeleted([a!, c!, up.id])).toHaveLength(3)
      expect(await catalog.markDeleted([a!])).toHaveLength(1)
      await expectExact(catalog, 'erasure (tombstones), twice')

      // migrate-data: a newer version of a row replaces it, a tombstone replaces a live row.
      const rows = await catalog.exportRows('media', null, 1000)
      const changed = rows.map((r) => (r.id === d ? { ...r, status: 'deleted', deleted_at: 1, updated_at: Number(r.updated_at) + 1 } : r))
      expect(await catalog.importRows('media', changed)).toBe(1)
      await expectExact(catalog, 'import over a live row')

      const truth = await expectExact(catalog, 'before folding')
      await catalog.compactCounts()
      expect(await catalog.counts()).toEqual(truth)
      await catalog.compactCounts()
      await catalog.compactCounts()
      await expectExact(catalog, 'folded (idempotent)')
      await seed(catalog, 2, { platform: 'instagram', sourceMediaId: null })
      await expectExact(catalog, 'deltas on top of a folded base')
    })

    it('writers fold the deltas on their own, past several folds, and the counts stay exact', async () => {
      const catalog = ctx.catalog()
      // Each record: +1 on arrival, −1/+1 when stored: three deltas.
      const total = Math.ceil((FOLD_EVERY * 2.5) / 3) + 7
      const ids = await seed(catalog, total)
      await expectExact(catalog, 'after intake')
      const claimed = await catalog.claim({ owner: 'w', limit: total, leaseMs: 60_000, crashLimit: 8 })
      expect(claimed).toHaveLength(total)
      await catalog.settleMany(claimed.map((m, i) => ({ id: m.id, owner: 'w', settlement: i % 3 === 0 ? { status: 'failed' as const, error: { code: 'auth', message: 'no' } } : stored() })))
      await expectExact(catalog, 'after settling')
      await catalog.markDeleted(ids.slice(0, 100))
      const other = await ctx.open()
      expect(await other.counts()).toEqual(await expectExact(catalog, 'after erasing'))
    })

    it('stay exact while several catalogs write and fold at once', async () => {
      const catalogs = [ctx.catalog(), ...(await Promise.all([ctx.open(), ctx.open(), ctx.open()]))]
      let folds = 0
      let writing = true
      const folder = (async () => {
        while (writing && folds < 500) {
          await catalogs[3]!.compactCounts()
          folds++
        }
      })()
      await Promise.all(
        catalogs.slice(0, 3).map(async (catalog, n) => {
          for (let round = 0; round < 6; round++) {
            const platform = (['whatsapp', 'messenger', 'instagram'] as const)[(n + round) % 3]!
            await seed(catalog, 40, platform === 'whatsapp' ? {} : { platform, sourceMediaId: null })
            const claimed = await catalog.claim({ owner: `w${n}`, limit: 30, leaseMs: 60_000, crashLimit: 8 })
            await catalog.settleMany(claimed.map((m, i) => ({ id: m.id, owner: `w${n}`, settlement: i % 4 === 0 ? { status: 'failed' as const, error: { code: 'auth', message: 'no' } } : stored() })))
            if (round % 3 === 2) await catalog.markDeleted(claimed.slice(0, 5).map((m) => m.id))
          }
        }),
      ).finally(() => {
        writing = false
      })
      await folder
      expect(folds).toBeGreaterThan(0)
      const truth = await expectExact(ctx.catalog(), 'after the race')
      expect(truth.reduce((n, c) => n + c.count, 0)).toBe(3 * 6 * 40)
      await catalogs[1]!.compactCounts()
      await expectExact(ctx.catalog(), 'folded after the race')
    })

    it('a catalog with records migrated to version 12 counts them; down and up again too', async () => {
      const catalog = ctx.catalog()
      await catalog.migrateTo(11)
      const ids = await seed(catalog, 5)
      await seed(catalog, 2, { platform: 'messenger', sourceMediaId: null })
      const claimed = await catalog.claim({ owner: 'w', limit: 2, leaseMs: 60_000, crashLimit: 8 })
      await catalog.settle(claimed[0]!.id, 'w', stored())
      await catalog.markDeleted([ids[4]!])
      await catalog.migrateTo(12)
      const truth = await expectExact(catalog, 'migrated')
      expect(truth.reduce((n, c) => n + c.count, 0)).toBe(7)
      await catalog.migrateTo(11)
      await seed(catalog, 1)
      await catalog.migrate()
      await expectExact(catalog, 'down, written, up again')
    })
  })
}
