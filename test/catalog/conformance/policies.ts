/** Storage policies (remote records) and erasure (tombstones, shared blobs, expiry). */
import { describe, expect, it } from 'vitest'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { newMedia, seed, webhook } from '../fixtures.js'
import { stored } from './claim.js'

const DAY = 24 * 60 * 60 * 1000

/** Claims every due record and stores those named, each with its sha256. */
async function storeAll(catalog: TestCatalog, sha256ById: Record<string, string>): Promise<void> {
  const claimed = await catalog.claim({ owner: 'w', limit: 100, leaseMs: 60_000, crashLimit: 8, now: new Date(Date.now() + 1000) })
  for (const [id, sha256] of Object.entries(sha256ById)) {
    expect(claimed.map((m) => m.id)).toContain(id)
    expect(await catalog.settle(id, 'w', stored({ sha256 }))).toBe(true)
  }
}

export function policyTests(ctx: ConformanceContext): void {
  describe('storage policies', () => {
    it('records lazy and proxy media as remote, out of the queue; eager stays pending', async () => {
      const catalog = ctx.catalog()
      const [lazy] = await seed(catalog, 1, { policy: 'lazy' })
      const [proxy] = await seed(catalog, 1, { policy: 'proxy', platform: 'instagram', sourceMediaId: null })
      const [eager] = await seed(catalog, 1)
      const [failedLazy] = await seed(catalog, 1, { policy: 'lazy', error: { code: 'meta_error', message: 'x' } })
      expect(await catalog.get(lazy!)).toMatchObject({ status: 'remote', policy: 'lazy', nextAttemptAt: null, deletedAt: null })
      expect(await catalog.get(proxy!)).toMatchObject({ status: 'remote', policy: 'proxy' })
      expect(await catalog.get(eager!)).toMatchObject({ status: 'pending', policy: 'eager' })
      expect(await catalog.get(failedLazy!)).toMatchObject({ status: 'failed', policy: 'lazy' })
      const claimed = await catalog.claim({ owner: 'w', limit: 10, leaseMs: 1000, crashLimit: 8, now: new Date(Date.now() + 1000) })
      expect(claimed.map((m) => m.id)).toEqual([eager])
      expect((await catalog.counts()).find((c) => c.status === 'remote' && c.platform === 'whatsapp')?.count).toBe(1)
    })

    it('storeRemote settles a remote record once, and never anything else', async () => {
      const catalog = ctx.catalog()
      const [lazy] = await seed(catalog, 1, { policy: 'lazy' })
      const [eager] = await seed(catalog, 1)
      const storedAt = new Date('2031-02-03T04:05:06.007Z')
      const record = await catalog.storeRemote(lazy!, { ...stored(), storedAt })
      expect(record).toMatchObject({ id: lazy, status: 'stored', policy: 'lazy', sha256: 'a'.repeat(64), size: 1234, storedAt })
      expect(await catalog.get(lazy!)).toEqual(record)
      expect(await catalog.storeRemote(lazy!, stored({ sha256: 'b'.repeat(64) }))).toBeUndefined()
      expect((await catalog.get(lazy!))!.sha256).toBe('a'.repeat(64))
      expect(await catalog.storeRemote(eager!, stored())).toBeUndefined()
      expect((await catalog.get(eager!))!.status).toBe('pending')
    })

    it('failRemote fails a remote record once (infected lazy capture), with its bytes quarantined, and never anything else', async () => {
      const catalog = ctx.catalog()
      const [lazy] = await seed(catalog, 1, { policy: 'lazy' })
      const [eager] = await seed(catalog, 1)
      const bytes = { sha256: 'e'.repeat(64), size: 77, blobKey: stored({ sha256: 'e'.repeat(64) }).blobKey, sniffedMime: 'application/pdf', mimeType: 'application/pdf' }
      const scannedAt = new Date('2031-02-03T04:05:06.007Z')
      const scan = { status: 'infected' as const, engine: 'ClamAV 1.0', scannedAt, signature: 'Test.Sig', releasedAt: null }
      const error = { code: 'infected', message: 'the malware scanner found Test.Sig', vendorCode: 'Test.Sig' }
      const quarantineKey = `quarantine/${bytes.blobKey}.20310203T040506007Z`
      const record = await catalog.failRemote(lazy!, { error, scan, bytes, blobKey: quarantineKey })
      expect(record).toMatchObject({ id: lazy, status: 'failed', policy: 'lazy', blobKey: quarantineKey, sha256: bytes.sha256, size: 77, mimeType: 'application/pdf', error, scan, nextAttemptAt: null })
      expect(await catalog.get(lazy!)).toEqual(record)
      expect(await catalog.failRemote(lazy!, { error, scan, bytes, blobKey: null })).toBeUndefined()
      expect(await catalog.storeRemote(lazy!, stored())).toBeUndefined()
      expect((await catalog.get(lazy!))!.blobKey).toBe(quarantineKey)
      expect(await catalog.failRemote(eager!, { error, scan, bytes, blobKey: null })).toBeUndefined()
      expect((await catalog.get(eager!))!.status).toBe('pending')
    })

    it('learnRemote notes verified facts on a proxy record, which stays remote', async () => {
      const catalog = ctx.catalog()
      const [proxy] = await seed(catalog, 1, { policy: 'proxy' })
      const [eager] = await seed(catalog, 1)
      const facts = { sha256: 'c'.repeat(64), size: 99, sniffedMime: 'image/png', mimeType: 'image/png' }
      expect(await catalog.learnRemote(proxy!, facts)).toBe(true)
      expect(await catalog.get(proxy!)).toMatchObject({ status: 'remote', ...facts, blobKey: null })
      expect(await catalog.learnRemote(eager!, facts)).toBe(false)
      expect((await catalog.get(eager!))!.sha256).toBeNull()
    })

    it('listLazyDue finds lazy remote records whose source expires in the window, soonest first', async () => {
      const catalog = ctx.catalog()
      const now = Date.now()
      const at = (hours: number) => new Date(now + hours * 3_600_000)
      const [in20h] = await seed(catalog, 1, { policy: 'lazy', sourceExpiresAt: at(20) })
      const [in2h] = await seed(catalog, 1, { policy: 'lazy', sourceExpiresAt: at(2) })
      const [in30h] = await seed(catalog, 1, { policy: 'lazy', sourceExpiresAt: at(30) })
      await seed(catalog, 1, { policy: 'lazy', sourceExpiresAt: at(-1) }) // already gone
      await seed(catalog, 1, { policy: 'proxy', sourceExpiresAt: at(1) }) // never captured
      await seed(catalog, 1, { sourceExpiresAt: at(1) }) // eager: the worker's job
      const [storedLazy] = await seed(catalog, 1, { policy: 'lazy', sourceExpiresAt: at(3) })
      await catalog.storeRemote(storedLazy!, stored())
      const due = await catalog.listLazyDue({ expiresBefore: at(24), limit: 10, now: new Date(now) })
      expect(due.map((m) => m.id)).toEqual([in2h, in20h])
      expect((await catalog.listLazyDue({ expiresBefore: at(48), limit: 1, now: new Date(now) })).map((m) => m.id)).toEqual([in2h])
      expect((await catalog.listLazyDue({ expiresBefore: at(48), limit: 10, ids: [in30h!], now: new Date(now) })).map((m) => m.id)).toEqual([in30h])
      expect(await catalog.listLazyDue({ expiresBefore: at(48), limit: 10, ids: [] })).toEqual([])
    })
  })

  describe('erasure', () => {
    it('markDeleted keeps an audit tombstone without the content, idempotently', async () => {
      const catalog = ctx.catalog()
      const [id, other] = await seed(catalog, 2, { caption: 'my passport', filename: 'passport.pdf', sourceUrl: 'https://lookaside.fbsbx.com/x' })
      await storeAll(catalog, { [id!]: 'd'.repeat(64) })
      const now = new Date('2031-03-04T05:06:07.008Z')
      const [tombstone] = await catalog.markDeleted([id!, 'med_00000000000000000000000000'], now)
      expect(tombstone).toMatchObject({
        id,
        status: 'deleted',
        deletedAt: now,
        caption: null,
        filename: null,
        sourceUrl: null,
        sha256: 'd'.repeat(64),
        blobKey: stored({ sha256: 'd'.repeat(64) }).blobKey,
        leaseOwner: null,
      })
      expect(await catalog.get(id!)).toEqual(tombstone)
      // Again: the same tombstone, the first deletion time kept.
      expect(await catalog.markDeleted([id!], new Date())).toEqual([tombstone])
      expect(await catalog.get(other!)).toMatchObject({ status: 'pending', caption: 'my passport' })
      expect(await catalog.markDeleted([])).toEqual([])
    })

    it('a deleted pending job is never claimed or settled', async () => {
      const catalog = ctx.catalog()
      const [leased, waiting] = await seed(catalog, 2)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8, now: new Date(Date.now() + 1) })
      await catalog.markDeleted([leased!, waiting!])
      expect(await catalog.settle(leased!, 'w', stored())).toBe(false)
      expect(await catalog.claim({ owner: 'w', limit: 10, leaseMs: 1000, crashLimit: 8, now: new Date(Date.now() + 120_000) })).toEqual([])
      expect((await catalog.get(leased!))!.status).toBe('deleted')
    })

    it('tracks which blob keys are still used, and releases them from tombstones', async () => {
      const catalog = ctx.catalog()
      const shared = 'e'.repeat(64)
      const [a, b, c] = await seed(catalog, 3)
      await storeAll(catalog, { [a!]: shared, [b!]: shared, [c!]: 'f'.repeat(64) })
      const sharedKey = stored({ sha256: shared }).blobKey
      const ownKey = stored({ sha256: 'f'.repeat(64) }).blobKey
      await catalog.markDeleted([a!, c!])
      expect((await catalog.referencedBlobKeys([sharedKey, ownKey, 'sha256/no/ne/none'])).sort()).toEqual([sharedKey])
      expect((await catalog.tombstoneBlobKeys(10)).sort()).toEqual([sharedKey, ownKey].sort())
      expect(await catalog.releaseBlobKeys([ownKey, sharedKey])).toBe(2)
      expect(await catalog.tombstoneBlobKeys(10)).toEqual([])
      // The live record keeps its key.
      expect((await catalog.get(b!))!.blobKey).toBe(sharedKey)
      await catalog.markDeleted([b!])
      expect(await catalog.referencedBlobKeys([sharedKey])).toEqual([])
      expect(await catalog.tombstoneBlobKeys(10)).toEqual([sharedKey])
    })

    it('listExpired finds records not yet deleted received before the cutoff, per platform', async () => {
      const catalog = ctx.catalog()
      const now = Date.now()
      const results = await catalog.recordWebhooks([
        webhook([newMedia()], { receivedAt: new Date(now - 40 * DAY) }),
        webhook([newMedia({ platform: 'messenger', sourceMediaId: null })], { receivedAt: new Date(now - 40 * DAY) }),
        webhook([newMedia({ policy: 'proxy' })], { receivedAt: new Date(now - 35 * DAY) }),
        webhook([newMedia()], { receivedAt: new Date(now - 31 * DAY) }),
        webhook([newMedia()], { receivedAt: new Date(now - 5 * DAY) }),
      ])
      const [oldWa, oldMessenger, oldProxy, gone] = results.map((r) => r.created[0]!.id)
      await catalog.markDeleted([gone!])
      const cutoff = new Date(now - 30 * DAY)
      const all = await catalog.listExpired({ receivedBefore: cutoff, limit: 10 })
      expect([...all].sort()).toEqual([oldWa, oldMessenger, oldProxy].sort())
      expect(all.at(-1)).toBe(oldProxy) // oldest first
      expect(await catalog.listExpired({ platform: 'whatsapp', receivedBefore: cutoff, limit: 10 })).toEqual([oldWa, oldProxy])
      expect(await catalog.listExpired({ platform: 'whatsapp', receivedBefore: cutoff, limit: 1 })).toEqual([oldWa])
      expect(await catalog.listExpired({ platform: 'instagram', receivedBefore: cutoff, limit: 10 })).toEqual([])
    })
  })
}
