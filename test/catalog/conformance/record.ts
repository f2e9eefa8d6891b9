/** recordWebhooks: one transaction per batch, deduplication of bodies and of attachments. */
import { describe, expect, it } from 'vitest'
import { isMediaId, isWebhookId } from '../../../src/media/ids.js'
import type { NewMedia } from '../../../src/media/record.js'
import type { ConformanceContext } from '../conformance.js'
import { newMedia, webhook } from '../fixtures.js'

export function recordTests(ctx: ConformanceContext): void {
  describe('recordWebhooks', () => {
    it('round-trips every field of a record', async () => {
      const catalog = ctx.catalog()
      const full: NewMedia = newMedia({
        platform: 'instagram',
        accountId: '17841400000000000',
        attachmentIndex: 3,
        senderId: '987654321',
        direction: 'outbound',
        kind: 'audio',
        sourceType: 'voice',
        sourceMediaId: null,
        sourceUrl: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=abc',
        sourceExpiresAt: new Date('2031-01-02T03:04:05.678Z'),
        declaredMime: 'audio/ogg; codecs=opus',
        declaredSha256: 'q5Lb2yxYbQ4vZk1kJQ6bKQk3sA1lVq8R8m0+Yk2l0mE=',
        declaredSize: 5_000_000_123,
        filename: 'voice note ünïcode.ogg',
        caption: 'a caption with \'quotes\' and "doubles"',
        voice: true,
        animated: false,
        sentAt: new Date('2030-12-31T23:59:59.001Z'),
        senderUserId: 'US.13491208655302741918',
        igPostMediaId: '18045678901234567',
        title: 'a post ünïcode',
      })
      const sparse = newMedia({ senderId: null, declaredMime: null, sourceMediaId: null, voice: false, animated: true })
      const receivedAt = new Date('2031-01-01T00:00:00.123Z')
      const before = Date.now()
      const [result] = await catalog.recordWebhooks([webhook([full, sparse], { receivedAt, object: 'instagram' })])
      expect(result!.webhookCreated).toBe(true)
      expect(isWebhookId(result!.webhookId)).toBe(true)
      expect(result!.duplicates).toBe(0)
      const [a, b] = result!.created
      expect(a).toEqual({
        ...full,
        id: a!.id,
        status: 'pending',
        webhookId: result!.webhookId,
        sha256: null,
        size: null,
        sniffedMime: null,
        mimeType: null,
        blobKey: null,
        attempts: 0,
        nextAttemptAt: a!.nextAttemptAt,
        leaseOwner: null,
        leaseExpiresAt: null,
        receivedAt,
        storedAt: null,
        updatedAt: a!.updatedAt,
        policy: 'eager',
        deletedAt: null,
        refetchedAt: null,
        width: null,
        height: null,
        durationMs: null,
        waveform: null,
        placeholder: null,
        derivatives: null,
        scan: null,
      })
      expect(isMediaId(a!.id)).toBe(true)
      expect(a!.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(before)
      expect(a!.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now())
      expect(b).toMatchObject({ senderId: null, declaredMime: null, voice: false, animated: true })
      expect(a!.id < b!.id).toBe(true)
      expect(await catalog.get(a!.id)).toEqual(a)
      expect(await catalog.get(b!.id)).toEqual(b)
      expect(await catalog.get('med_00000000000000000000000000')).toBeUndefined()
    })

    it('records a message delivered again in another body only once', async () => {
      const catalog = ctx.catalog()
      const media = newMedia()
      const [first] = await catalog.recordWebhooks([webhook([media])])
      const [second] = await catalog.recordWebhooks([webhook([{ ...media }, newMedia()])])
      expect(first!.created).toHaveLength(1)
      expect(second!.webhookCreated).toBe(true)
      expect(second!.webhookId).not.toBe(first!.webhookId)
      expect(second!.created).toHaveLength(1)
      expect(second!.created[0]!.messageId).not.toBe(media.messageId)
      expect(second!.duplicates).toBe(1)
      expect((await catalog.list({ messageId: media.messageId }, { limit: 10 })).data.map((m) => m.id)).toEqual([first!.created[0]!.id])
    })

    it('stores a redelivered body once and reuses its id', async () => {
      const catalog = ctx.catalog()
      const incoming = webhook([newMedia(), newMedia()])
      const [first] = await catalog.recordWebhooks([incoming])
      const [again] = await catalog.recordWebhooks([{ ...incoming, receivedAt: new Date(Date.now() + 5000) }])
      expect(again).toEqual({ webhookId: first!.webhookId, webhookCreated: false, created: [], duplicates: 2 })
    })

    it('records a batch of several webhooks in one call, deduplicating within the batch', async () => {
      const catalog = ctx.catalog()
      const m1 = newMedia()
      const m2 = newMedia({ attachmentIndex: 1, messageId: m1.messageId })
      const a = webhook([m1, m2])
      const c = webhook([newMedia({ platform: 'messenger' }), { ...m1 }])
      const results = await catalog.recordWebhooks([a, { ...a }, c, webhook([])])
      expect(results.map((r) => [r.webhookCreated, r.created.length, r.duplicates])).toEqual([
        [true, 2, 0],
        [false, 0, 2],
        [true, 1, 1],
        [true, 0, 0],
      ])
      expect(results[1]!.webhookId).toBe(results[0]!.webhookId)
      const ids = results.flatMap((r) => r.created.map((m) => m.id))
      expect([...ids].sort()).toEqual(ids)
      expect(results[0]!.created.map((m) => m.attachmentIndex)).toEqual([0, 1])
      expect(results[2]!.created[0]!.webhookId).toBe(results[2]!.webhookId)
      expect(await catalog.recordWebhooks([])).toEqual([])
    })

    it('mixes redelivered and new bodies in one batch, and batches larger than one statement', async () => {
      const catalog = ctx.catalog()
      const old = webhook([newMedia()])
      const [first] = await catalog.recordWebhooks([old])
      // The same shapes twice: the second call reuses the compiled statements with new values.
      for (let round = 0; round < 2; round++) {
        const big = webhook(Array.from({ length: 250 }, (_, i) => newMedia({ attachmentIndex: i })))
        const fresh = webhook([newMedia({ platform: 'instagram' })])
        const results = await catalog.recordWebhooks([fresh, old, big])
        expect(results.map((r) => [r.webhookCreated, r.created.length, r.duplicates])).toEqual([
          [true, 1, 0],
          [false, 0, 1],
          [true, 250, 0],
        ])
        expect(results[1]!.webhookId).toBe(first!.webhookId)
        expect(results[2]!.created.map((m) => m.attachmentIndex)).toEqual(Array.from({ length: 250 }, (_, i) => i))
        for (const record of [results[0]!.created[0]!, results[2]!.created[0]!, results[2]!.created[249]!]) {
          expect(await catalog.get(record.id)).toEqual(record)
        }
      }
    })

    it('commits nothing of a batch when any part of it fails', async () => {
      const catalog = ctx.catalog()
      const good = webhook([newMedia()])
      const bad = webhook([newMedia({ accountId: null as unknown as string })])
      await expect(catalog.recordWebhooks([good, bad])).rejects.toMatchObject({ code: 'catalog' })
      expect(await catalog.counts()).toEqual([])
      const [retried] = await catalog.recordWebhooks([good])
      expect(retried!.webhookCreated).toBe(true)
      expect(retried!.created).toHaveLength(1)
    })

    it('answers with exactly the records it wrote: failed, remote and repeated media in one webhook, next to a redelivery', async () => {
      const catalog = ctx.catalog()
      const known = newMedia()
      await catalog.recordWebhooks([webhook([known])])
      const repeated = newMedia({ caption: 'twice' })
      const error = { code: 'meta_error', message: 'Media upload error (131052)', vendorCode: 131052 }
      const media = [{ ...known }, repeated, newMedia({ kind: 'unknown', sourceMediaId: null, error }), { ...repeated, caption: 'second copy' }, newMedia({ policy: 'lazy', traceParent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })]
      const [result] = await catalog.recordWebhooks([webhook(media)])
      expect(result!.duplicates).toBe(2)
      expect(result!.created.map((m) => [m.messageId, m.caption, m.status])).toEqual([
        [repeated.messageId, 'twice', 'pending'],
        [media[2]!.messageId, media[2]!.caption, 'failed'],
        [media[4]!.messageId, media[4]!.caption, 'remote'],
      ])
      for (const record of result!.created) expect(await catalog.get(record.id)).toEqual(record)
    })

    it('records media that failed on arrival as failed, with their error, outside the queue', async () => {
      const catalog = ctx.catalog()
      const error = { code: 'meta_error', message: 'Media upload error (131052)', vendorCode: 131052 }
      const [result] = await catalog.recordWebhooks([webhook([newMedia({ kind: 'unknown', sourceMediaId: null, error }), newMedia()])])
      const [failed, pending] = result!.created
      expect(failed).toMatchObject({ status: 'failed', error, nextAttemptAt: null, attempts: 0 })
      expect(await catalog.get(failed!.id)).toMatchObject({ status: 'failed', error })
      expect(pending!.status).toBe('pending')
      const claimed = await catalog.claim({ owner: 'w', limit: 10, leaseMs: 1000, crashLimit: 8, now: new Date(Date.now() + 60_000) })
      expect(claimed.map((m) => m.id)).toEqual([pending!.id])
    })

    it('getWebhookBody returns the exact bytes', async () => {
      const catalog = ctx.catalog()
      const body = Buffer.concat([Buffer.from('{"object":"page","entry":[]}'), Buffer.from([0, 255, 254, 0x80, 10, 13, 0])])
      const [result] = await catalog.recordWebhooks([webhook([], { body, object: 'page' })])
      const back = await catalog.getWebhookBody(result!.webhookId)
      expect(Buffer.isBuffer(back)).toBe(true)
      expect(back!.equals(body)).toBe(true)
      expect(await catalog.getWebhookBody('whk_00000000000000000000000000')).toBeUndefined()
    })
  })
}
