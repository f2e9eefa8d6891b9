/** Meta's 2026 contract in the catalog (migration 7): sender ids, post extras, re-fetches, deadline-first claims. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { DiskBlobStore } from '../../../src/blobs/disk-blob-store.js'
import { silentLogger } from '../../../src/logging/logger.js'
import { eraseSender } from '../../../src/retention/erase-sender.js'
import { Eraser } from '../../../src/retention/eraser.js'
import type { ConformanceContext } from '../conformance.js'
import { newMedia, seed, webhook } from '../fixtures.js'
import { stored } from './claim.js'

const HOUR = 60 * 60 * 1000

export function meta2026Tests(ctx: ConformanceContext): void {
  describe('meta 2026', () => {
    it('keeps sender_user_id, ig_post_media_id and title; a tombstone drops the title, not the ids', async () => {
      const catalog = ctx.catalog()
      const [created] = (
        await catalog.recordWebhooks([webhook([newMedia({ senderId: 'US.1349', senderUserId: 'US.1349', igPostMediaId: '18045678901234567', title: 'Autumn' })])])
      )[0]!.created
      expect(created).toMatchObject({ senderId: 'US.1349', senderUserId: 'US.1349', igPostMediaId: '18045678901234567', title: 'Autumn', refetchedAt: null })
      expect(await catalog.get(created!.id)).toEqual(created)
      const [tombstone] = await catalog.markDeleted([created!.id])
      expect(tombstone).toMatchObject({ status: 'deleted', senderUserId: 'US.1349', igPostMediaId: '18045678901234567', title: null })
    })

    it('list({sender}) matches the phone number or the BSUID, and nothing else', async () => {
      const catalog = ctx.catalog()
      const [byPhone] = await seed(catalog, 1, { senderId: '16505551234', senderUserId: 'US.777' })
      const [byBsuid] = await seed(catalog, 1, { senderId: 'US.777', senderUserId: 'US.777' })
      const [psid] = await seed(catalog, 1, { platform: 'messenger', senderId: '7228156307217521', senderUserId: null })
      await seed(catalog, 1, { senderId: '16505550000', senderUserId: 'US.888' })
      const ids = async (sender: string) => (await catalog.list({ sender }, { limit: 100 })).data.map((m) => m.id).sort()
      expect(await ids('US.777')).toEqual([byPhone!, byBsuid!].sort())
      expect(await ids('16505551234')).toEqual([byPhone!])
      expect(await ids('7228156307217521')).toEqual([psid!])
      expect(await ids('nobody')).toEqual([])
    })

    it('eraseSender erases every media of one person through the eraser, blobs included, and counts only fresh tombstones', async () => {
      const catalog = ctx.catalog()
      const dir = mkdtempSync(path.join(tmpdir(), 'mediagate-erase-sender-'))
      try {
        const blobs = new DiskBlobStore(path.join(dir, 'blobs'))
        await blobs.init()
        const eraser = new Eraser({ catalog, blobs, logger: silentLogger() })
        const [a, b] = [...(await seed(catalog, 1, { senderId: 'US.42', senderUserId: 'US.42' })), ...(await seed(catalog, 1, { senderId: '16505550042', senderUserId: 'US.42' }))]
        const [other] = await seed(catalog, 1, { senderId: '16505550043', senderUserId: 'US.43' })
        const [elsewhere] = await seed(catalog, 1, { platform: 'messenger', senderId: 'US.42', senderUserId: null })
        // One of them is stored, so its blob must go with it.
        await catalog.claim({ owner: 'w', limit: 10, leaseMs: 60_000, crashLimit: 8, now: new Date(Date.now() + 1000) })
        const put = await blobs.put(Readable.from([Buffer.from('the bytes of a')]), { maxBytes: 1000 })
        expect(await catalog.settle(a!, 'w', { ...stored({ sha256: put.sha256, size: put.size, blobKey: put.key }) })).toBe(true)

        expect(await eraseSender({ sender: 'US.42', platform: 'whatsapp' }, { catalog, eraser })).toBe(2)
        expect((await catalog.get(a!))!.status).toBe('deleted')
        expect((await catalog.get(b!))!.status).toBe('deleted')
        expect((await catalog.get(other!))!.status).not.toBe('deleted')
        expect((await catalog.get(elsewhere!))!.status).not.toBe('deleted')
        expect(await blobs.stat(put.key)).toBeUndefined()
        expect(await eraseSender({ sender: 'US.42', platform: 'whatsapp' }, { catalog, eraser })).toBe(0)
        expect(await eraseSender({ sender: 'US.42' }, { catalog, eraser })).toBe(1)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it('a stored settlement can say the source was re-fetched', async () => {
      const catalog = ctx.catalog()
      const [id] = await seed(catalog, 1)
      await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })
      const refetchedAt = new Date(Date.now() - 5)
      expect(await catalog.settle(id!, 'w', { ...stored(), refetchedAt })).toBe(true)
      expect(await catalog.get(id!)).toMatchObject({ status: 'stored', refetchedAt })
    })

    it('claims the earliest capture deadline first; a source without one waits as if it lived 7 days from receipt', async () => {
      const catalog = ctx.catalog()
      const t = Date.now()
      const [week] = await seed(catalog, 1, { sourceExpiresAt: new Date(t + 7 * 24 * HOUR) })
      const [unknownOld] = (await catalog.recordWebhooks([webhook([newMedia({ platform: 'messenger', sourceMediaId: null, sourceExpiresAt: null })], { receivedAt: new Date(t - 2 * 24 * HOUR) })]))[0]!.created.map((m) => m.id)
      const [hour] = await seed(catalog, 1, { sourceExpiresAt: new Date(t + HOUR) })
      const [day] = await seed(catalog, 1, { sourceExpiresAt: new Date(t + 24 * HOUR) })
      const now = new Date(t + 1000)
      const order: string[] = []
      for (let i = 0; i < 5; i++) {
        const [job] = await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8, now })
        if (!job) break
        order.push(job.id)
      }
      expect(order).toEqual([hour, day, unknownOld, week])
    })

    it('a job backing off does not hold back a later deadline that is due', async () => {
      const catalog = ctx.catalog()
      const t = Date.now()
      const [soon, later] = [...(await seed(catalog, 1, { sourceExpiresAt: new Date(t + HOUR) })), ...(await seed(catalog, 1, { sourceExpiresAt: new Date(t + 2 * HOUR) }))]
      const [first] = await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8, now: new Date(t + 1000) })
      expect(first?.id).toBe(soon)
      await catalog.settle(soon!, 'w', { status: 'retry', error: { code: 'network', message: 'reset' }, nextAttemptAt: new Date(t + 60_000) })
      const [job] = await catalog.claim({ owner: 'w', limit: 5, leaseMs: 60_000, crashLimit: 8, now: new Date(t + 1001) })
      expect(job?.id).toBe(later)
    })
  })
}
