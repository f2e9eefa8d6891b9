/**
 * Malware scan verdicts in the catalog: bytes kept on a pending record for their scan (and safe
 * from deletion meanwhile), scan results on settlements, quarantine, release, forwards sent again.
 */
import { describe, expect, it } from 'vitest'
import type { ScanResult } from '../../../src/media/record.js'
import type { ConformanceContext } from '../conformance.js'
import { newMedia, seed, webhook } from '../fixtures.js'
import { stored } from './claim.js'

const CLEAN: ScanResult = { status: 'clean', engine: 'ClamAV 1.4.3/1/x', scannedAt: new Date('2030-01-01T00:00:00.000Z'), signature: null, releasedAt: null }
const INFECTED: ScanResult = { status: 'infected', engine: 'ClamAV 1.4.3/2/x', scannedAt: new Date('2030-01-02T00:00:00.000Z'), signature: 'Test.Sig.UNOFFICIAL', releasedAt: null }
const infected = { code: 'infected', message: 'found Test.Sig.UNOFFICIAL', vendorCode: 'Test.Sig.UNOFFICIAL' }

export function scanTests(ctx: ConformanceContext): void {
  describe('malware scans', () => {
    it('a retry that keeps its bytes holds their facts and key, and no deletion may claim the blob meanwhile', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      const { status: _s, ...kept } = stored({ sha256: 'b'.repeat(64) })
      const scan: ScanResult = { status: 'error', engine: null, scannedAt: new Date('2030-01-03T00:00:00.000Z'), signature: null, releasedAt: null }
      const nextAttemptAt = new Date(Date.now() + 60_000)
      expect(await catalog.settle(id!, 'w', { status: 'retry', error: { code: 'scanner', message: 'clamd down' }, nextAttemptAt, kept, scan })).toBe(true)
      const record = await catalog.get(id!)
      expect(record).toMatchObject({ status: 'pending', blobKey: kept.blobKey, sha256: kept.sha256, size: kept.size, mimeType: 'image/jpeg', scan, leaseOwner: null })
      expect(await catalog.referencedBlobKeys([kept.blobKey])).toEqual([kept.blobKey])
      const claim = await catalog.claimBlobDeletions([kept.blobKey], 'eraser', 60_000)
      expect(claim).toMatchObject({ claimed: [], referenced: [kept.blobKey] })
      // Erased while it waits: the tombstone holds the key, so the eraser deletes the blob.
      const [tombstone] = await catalog.markDeleted([id!])
      expect(tombstone).toMatchObject({ status: 'deleted', blobKey: kept.blobKey })
      expect(await catalog.claimBlobDeletions([kept.blobKey], 'eraser-2', 60_000)).toMatchObject({ claimed: [kept.blobKey] })
    })

    it('stored and failed settlements carry the scan; a failed one may hold its quarantine key', async () => {
      const catalog = ctx.catalog()
      const [a, b] = await seed(catalog, 2)
      await catalog.claim({ owner: 'w', limit: 2, leaseMs: 60_000, crashLimit: 8 })
      expect(await catalog.settle(a!, 'w', { ...stored(), scan: CLEAN })).toBe(true)
      expect((await catalog.get(a!))!.scan).toEqual(CLEAN)
      expect(await catalog.settle(b!, 'w', { status: 'failed', error: infected, scan: INFECTED, blobKey: 'quarantine/sha256/x.1' })).toBe(true)
      expect(await catalog.get(b!)).toMatchObject({ status: 'failed', blobKey: 'quarantine/sha256/x.1', scan: INFECTED, error: infected, sha256: null })
      // With the facts of the quarantined bytes, which a release verifies.
      const [c] = await seed(catalog, 1)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      const kept = { sha256: 'f'.repeat(64), size: 321, blobKey: 'quarantine/sha256/y.1', sniffedMime: 'application/pdf', mimeType: 'application/pdf' }
      expect(await catalog.settle(c!, 'w', { status: 'failed', error: infected, scan: INFECTED, blobKey: kept.blobKey, kept })).toBe(true)
      expect(await catalog.get(c!)).toMatchObject({ status: 'failed', blobKey: kept.blobKey, sha256: kept.sha256, size: 321, mimeType: 'application/pdf' })
      // Not retried by hand: only a release brings infected media back.
      expect(await catalog.requeue({ ids: [b!] })).toBe(0)
    })

    it('a stored record without scan columns shows `skipped`; one that never held bytes shows none', async () => {
      const catalog = ctx.catalog()
      const [a, b] = await seed(catalog, 2)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      await catalog.settle(a!, 'w', stored())
      expect((await catalog.get(a!))!.scan).toEqual({ status: 'skipped', engine: null, scannedAt: null, signature: null, releasedAt: null })
      expect((await catalog.get(b!))!.scan).toBeNull()
    })

    it('quarantineBlob fails every stored record of the blob; noteScan records a clean rescan; releaseInfected puts one back', async () => {
      const catalog = ctx.catalog()
      const ids = await seed(catalog, 3)
      await catalog.claim({ owner: 'w', limit: 3, leaseMs: 60_000, crashLimit: 8 })
      const shared = stored({ sha256: 'c'.repeat(64) })
      const other = stored({ sha256: 'd'.repeat(64) })
      await catalog.settleMany([
        { id: ids[0]!, owner: 'w', settlement: shared },
        { id: ids[1]!, owner: 'w', settlement: shared },
        { id: ids[2]!, owner: 'w', settlement: other },
      ])
      expect(await catalog.noteScan(other.blobKey, CLEAN)).toBe(1)
      expect((await catalog.get(ids[2]!))!.scan).toEqual(CLEAN)
      const quarantined = await catalog.quarantineBlob(shared.blobKey, 'quarantine/c.1', infected, INFECTED)
      expect(quarantined.map((m) => m.id).sort()).toEqual([ids[0]!, ids[1]!].sort())
      for (const m of quarantined) expect(m).toMatchObject({ status: 'failed', blobKey: 'quarantine/c.1', error: infected, scan: INFECTED })
      expect((await catalog.get(ids[2]!))!.status).toBe('stored')
      expect(await catalog.referencedBlobKeys(['quarantine/c.1', shared.blobKey])).toEqual(['quarantine/c.1'])

      const released = await catalog.releaseInfected(ids[0]!, shared.blobKey)
      expect(released).toMatchObject({ status: 'stored', blobKey: shared.blobKey, error: null, scan: { status: 'skipped', signature: 'Test.Sig.UNOFFICIAL', engine: INFECTED.engine } })
      expect(released!.scan!.releasedAt).toBeInstanceOf(Date)
      expect(await catalog.releaseInfected(ids[0]!, shared.blobKey)).toBeUndefined()
      expect(await catalog.releaseInfected(ids[2]!, other.blobKey)).toBeUndefined()
      expect((await catalog.get(ids[1]!))!.status).toBe('failed')
    })

    it('resendForwards queues sent forwards again under new ids, leaving pending ones alone', async () => {
      const catalog = ctx.catalog()
      const [sent, waiting] = await catalog.recordWebhooks([
        { ...webhook([newMedia()]), forward: { conversationKey: 'c1', waitForMedia: false } },
        { ...webhook([newMedia()]), forward: { conversationKey: 'c2', waitForMedia: false } },
      ])
      const [first] = await catalog.claimForwards({ owner: 'f', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      expect(first!.webhookId).toBe(sent!.webhookId)
      await catalog.settleForward(first!.id, 'f', { status: 'sent' })
      expect(await catalog.resendForwards([sent!.webhookId, waiting!.webhookId])).toBe(1)
      const all = (await catalog.listForwards({}, { limit: 10 })).data
      expect(all).toHaveLength(2)
      const again = all.find((f) => f.webhookId === sent!.webhookId)!
      expect(again).toMatchObject({ status: 'pending', attempts: 0, sentAt: null })
      expect(again.id).not.toBe(first!.id)
      expect(again.id > all.find((f) => f.webhookId === waiting!.webhookId)!.id).toBe(true)
      expect(await catalog.resendForwards([])).toBe(0)
    })
  })
}
