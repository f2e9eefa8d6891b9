/**
 * Copying between catalogs (`migrate-data`): a re-run brings a destination up to date. Rows
 * "from the source" are this catalog's own exported rows, changed as the source would have
 * changed them, so every engine is checked as a destination and as a source.
 */
import { describe, expect, it } from 'vitest'
import type { IncomingWebhook } from '../../../src/catalog/catalog.js'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { newMedia, seed, webhook } from '../fixtures.js'
import { stored } from './claim.js'

type Row = Record<string, unknown>

async function exported(catalog: TestCatalog, table: 'webhooks' | 'media' | 'forwards', id: string): Promise<Row> {
  const rows = await catalog.exportRows(table, null, 1000)
  const row = rows.find((r) => r.id === id)
  if (!row) throw new Error(`${table} ${id} was not exported`)
  return row
}

async function storedRecord(catalog: TestCatalog, sha256: string): Promise<string> {
  const [id] = await seed(catalog, 1)
  const [job] = await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
  expect(job!.id).toBe(id)
  expect(await catalog.settle(id!, 'w', stored({ sha256 }))).toBe(true)
  return id!
}

function forwarded(conversationKey: string): IncomingWebhook {
  return { ...webhook([newMedia()]), forward: { conversationKey, waitForMedia: false } }
}

export function copyTests(ctx: ConformanceContext): void {
  describe('copying rows between catalogs', () => {
    it('a newer media version replaces the row here, an older or equal one does not', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      const here = await exported(catalog, 'media', id!)
      const stamp = Number(here.updated_at)

      const newer = { ...here, status: 'failed', attempts: 3, error_code: 'auth', error_message: 'token refused', updated_at: stamp + 1000 }
      const older = { ...here, status: 'stored', sha256: 'b'.repeat(64), updated_at: stamp - 1 }
      expect(await catalog.compareRows('media', [newer])).toEqual({ [id!]: 'update' })
      expect(await catalog.compareRows('media', [older])).toEqual({ [id!]: 'keep' })
      expect(await catalog.compareRows('media', [here])).toEqual({ [id!]: 'same' })

      expect(await catalog.importRows('media', [older])).toBe(0)
      expect(await catalog.importRows('media', [here])).toBe(0)
      expect((await catalog.get(id!))!.leaseOwner).toBe('w')

      expect(await catalog.importRows('media', [newer])).toBe(1)
      const record = await catalog.get(id!)
      expect(record).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'auth', message: 'token refused' }, leaseOwner: null, leaseExpiresAt: null })
      expect(record!.updatedAt.getTime()).toBe(stamp + 1000)
      // The row now here is newer than what the source had before: that older state stays out.
      expect(await catalog.importRows('media', [here])).toBe(0)
      expect((await catalog.get(id!))!.status).toBe('failed')
    })

    it('a newer forward replaces the row here, with its state and attempts; an older one does not', async () => {
      const catalog = ctx.catalog()
      await catalog.recordWebhooks([forwarded('c1')])
      const [forward] = (await catalog.listForwards({}, { limit: 10 })).data
      const here = await exported(catalog, 'forwards', forward!.id)
      const stamp = Number(here.updated_at)
      const sent = { ...here, status: 'sent', attempts: 2, sent_at: stamp + 500, updated_at: stamp + 500 }
      const older = { ...here, status: 'failed', attempts: 20, last_error: 'HTTP 500', updated_at: stamp - 1 }
      expect(await catalog.compareRows('forwards', [sent])).toEqual({ [forward!.id]: 'update' })
      expect(await catalog.importRows('forwards', [older])).toBe(0)
      expect(await catalog.importRows('forwards', [sent])).toBe(1)
      expect(await catalog.getForward(forward!.id)).toMatchObject({ status: 'sent', attempts: 2, sentAt: new Date(stamp + 500) })
      expect(await catalog.compareRows('forwards', [older])).toEqual({ [forward!.id]: 'keep' })
      expect(await catalog.importRows('forwards', [older])).toBe(0)
      expect((await catalog.getForward(forward!.id))!.status).toBe('sent')
    })

    it('a tombstone arrives over a stored row and keeps the blob key held here; a live row never replaces a tombstone', async () => {
      const catalog = ctx.catalog()
      const erasedThere = await storedRecord(catalog, 'c'.repeat(64))
      const key = stored({ sha256: 'c'.repeat(64) }).blobKey
      const here = await exported(catalog, 'media', erasedThere)
      // The source erased it and has already deleted its blob and let go of the key.
      const tombstone = { ...here, status: 'deleted', deleted_at: Number(here.updated_at) + 1000, updated_at: Number(here.updated_at) + 1000, blob_key: null, caption: null }
      expect(await catalog.compareRows('media', [tombstone])).toEqual({ [erasedThere]: 'update' })
      expect(await catalog.importRows('media', [tombstone])).toBe(1)
      expect(await catalog.get(erasedThere)).toMatchObject({ status: 'deleted', blobKey: key })
      // The bytes this catalog's store holds are still to be deleted here.
      expect(await catalog.tombstoneBlobKeys(10)).toEqual([key])

      // Erased here (say, after the switch); a source that stored it later does not bring it back.
      const erasedHere = await storedRecord(catalog, 'd'.repeat(64))
      const live = await exported(catalog, 'media', erasedHere)
      await catalog.markDeleted([erasedHere])
      const newerLive = { ...live, updated_at: Date.now() + 60_000 }
      expect(await catalog.compareRows('media', [newerLive])).toEqual({ [erasedHere]: 'keep' })
      expect(await catalog.importRows('media', [newerLive])).toBe(0)
      expect((await catalog.get(erasedHere))!.status).toBe('deleted')
    })

    it('a webhook is kept as recorded; new ids are inserted; media wait for a webhook that is not here yet', async () => {
      const catalog = ctx.catalog()
      const [recorded] = await catalog.recordWebhooks([webhook([newMedia()])])
      const row = await exported(catalog, 'webhooks', recorded!.webhookId)
      const body = await catalog.getWebhookBody(recorded!.webhookId)
      const altered = { ...row, body: Buffer.from('{}'), size: 2 }
      expect(await catalog.compareRows('webhooks', [altered])).toEqual({ [recorded!.webhookId]: 'same' })
      expect(await catalog.importRows('webhooks', [altered])).toBe(0)
      expect(await catalog.getWebhookBody(recorded!.webhookId)).toEqual(body)

      const media = await exported(catalog, 'media', recorded!.created[0]!.id)
      const orphan = { ...media, id: 'med_01J00000000000000000000ORPH', message_id: 'wamid.orphan', webhook_id: 'whk_01J0000000000000000000NEW0' }
      const loose = { ...media, id: 'med_01J00000000000000000000LOOS', message_id: 'wamid.loose', webhook_id: null }
      const sibling = { ...media, id: 'med_01J0000000000000000000SIBL', message_id: 'wamid.sibling' }
      expect(await catalog.compareRows('media', [orphan, loose, sibling])).toEqual({ [orphan.id]: 'wait', [loose.id]: 'insert', [sibling.id]: 'insert' })
      expect(await catalog.importRows('media', [loose, sibling])).toBe(2)
      expect((await catalog.get(sibling.id))!.webhookId).toBe(recorded!.webhookId)

      const newHook = { ...row, id: 'whk_01J0000000000000000000NEW0', body_sha256: 'e'.repeat(64) }
      expect(await catalog.compareRows('webhooks', [newHook])).toEqual({ [newHook.id]: 'insert' })
      expect(await catalog.importRows('webhooks', [newHook])).toBe(1)
      expect(await catalog.compareRows('media', [orphan])).toEqual({ [orphan.id]: 'insert' })
    })

    it('exports only the rows changed since a time when asked', async () => {
      const catalog = ctx.catalog()
      const old = new Date(Date.now() - 3_600_000)
      const results = await catalog.recordWebhooks([webhook([newMedia()], { receivedAt: old }), webhook([newMedia()], { receivedAt: old }), webhook([newMedia()])])
      const ids = results.map((r) => r.created[0]!.id)
      const stamps = (await catalog.exportRows('media', null, 100)).map((r) => Number(r.updated_at))
      const later = new Date(Math.max(...stamps) + 10_000)
      await catalog.markDeleted([ids[1]!], later)
      expect((await catalog.exportRows('media', null, 100, later)).map((r) => r.id)).toEqual([ids[1]])
      expect(await catalog.exportRows('media', null, 100, new Date(later.getTime() + 1))).toEqual([])
      // Webhooks by when they arrived.
      const recent = await catalog.exportRows('webhooks', null, 100, new Date(old.getTime() + 1))
      expect(recent.map((r) => r.id)).toEqual([results[2]!.webhookId])
    })

    it('copyActivity counts rows and live leases and tells the latest change', async () => {
      const catalog = ctx.catalog()
      expect(await catalog.copyActivity()).toMatchObject({ leases: 0, leasedUntil: null, lastChangeAt: null, rows: 0 })
      await catalog.recordWebhooks([forwarded('c1'), webhook([newMedia()])])
      const quiet = await catalog.copyActivity()
      // 2 webhooks, 2 media, 1 forward.
      expect(quiet).toMatchObject({ leases: 0, leasedUntil: null, rows: 5 })
      const stamps = [
        ...(await catalog.exportRows('media', null, 100)).map((r) => Number(r.updated_at)),
        ...(await catalog.exportRows('webhooks', null, 100)).map((r) => Number(r.received_at)),
      ]
      expect(quiet.lastChangeAt!.getTime()).toBe(Math.max(...stamps))
      expect(Math.abs(quiet.now.getTime() - Date.now())).toBeLessThan(5_000)

      // A lease that ran out belongs to nobody; one that runs is a process at work.
      expect(await catalog.claim({ owner: 'dead', limit: 1, leaseMs: 1, crashLimit: 8 })).toHaveLength(1)
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await catalog.copyActivity()).toMatchObject({ leases: 0, leasedUntil: null })
      const [job] = await catalog.claim({ owner: 'alive', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      const [forward] = await catalog.claimForwards({ owner: 'alive', limit: 1, leaseMs: 90_000, crashLimit: 8 })
      const busy = await catalog.copyActivity()
      expect(busy.leases).toBe(2)
      expect(busy.leasedUntil).toEqual(forward!.leaseExpiresAt)
      expect(busy.leasedUntil!.getTime()).toBeGreaterThan(job!.leaseExpiresAt!.getTime())
      expect(busy.lastChangeAt!.getTime()).toBeGreaterThanOrEqual(quiet.lastChangeAt!.getTime())
    })
  })
}
