/** The forwarding outbox: queued with the webhook, claimed in order per conversation, settled, listed, retried. */
import { describe, expect, it } from 'vitest'
import type { IncomingWebhook } from '../../../src/catalog/catalog.js'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { newMedia, webhook } from '../fixtures.js'
import { stored } from './claim.js'

const LATER = () => new Date(Date.now() + 1000)

function forwarded(media: ReturnType<typeof newMedia>[], conversationKey: string, waitForMedia = false): IncomingWebhook {
  return { ...webhook(media), forward: { conversationKey, waitForMedia } }
}

async function claimAll(catalog: TestCatalog, owner = 'f', limit = 10) {
  return catalog.claimForwards({ owner, limit, leaseMs: 60_000, crashLimit: 8, now: LATER() })
}

export function forwardTests(ctx: ConformanceContext): void {
  describe('forwarding outbox', () => {
    it('queues one forward per new webhook in the same call, none for a redelivered body or without the option', async () => {
      const catalog = ctx.catalog()
      const first = forwarded([newMedia()], 'c1')
      const [recorded] = await catalog.recordWebhooks([first, webhook([newMedia()])])
      await catalog.recordWebhooks([{ ...first, media: [] }])
      const page = await catalog.listForwards({}, { limit: 10 })
      expect(page.data).toHaveLength(1)
      expect(page.data[0]).toMatchObject({ webhookId: recorded!.webhookId, conversationKey: 'c1', status: 'pending', attempts: 0, waitForMedia: false, sentAt: null })
      expect(page.data[0]!.id).toMatch(/^fwd_/)
    })

    it('claims one forward per conversation at a time, in recording order, and leases it', async () => {
      const catalog = ctx.catalog()
      await catalog.recordWebhooks([forwarded([], 'a'), forwarded([], 'b'), forwarded([], 'a')])
      const all = (await catalog.listForwards({}, { limit: 10 })).data.reverse()
      const first = await claimAll(catalog)
      expect(first.map((f) => f.conversationKey)).toEqual(['a', 'b'])
      expect(first.map((f) => f.id)).toEqual([all[0]!.id, all[1]!.id])
      expect(first.every((f) => f.attempts === 1 && f.leaseOwner === 'f')).toBe(true)
      // Leased: nobody else gets them, and a's second forward waits for the first.
      expect(await claimAll(catalog, 'g')).toEqual([])
      expect(await catalog.settleForward(first[1]!.id, 'f', { status: 'sent' })).toBe(true)
      // A retry later keeps the conversation blocked until it is sent.
      expect(await catalog.settleForward(first[0]!.id, 'f', { status: 'retry', error: 'HTTP 500', nextAttemptAt: new Date(Date.now() + 60_000) })).toBe(true)
      expect(await claimAll(catalog, 'g')).toEqual([])
      expect((await catalog.getForward(first[0]!.id))!.lastError).toBe('HTTP 500')
      const again = await catalog.claimForwards({ owner: 'g', limit: 10, leaseMs: 60_000, crashLimit: 8, now: new Date(Date.now() + 120_000) })
      expect(again.map((f) => f.id)).toEqual([first[0]!.id])
      expect(again[0]!.attempts).toBe(2)
      expect(await catalog.settleForward(first[0]!.id, 'f', { status: 'sent' })).toBe(false)
      expect(await catalog.settleForward(first[0]!.id, 'g', { status: 'sent' })).toBe(true)
      const sent = await catalog.getForward(first[0]!.id)
      expect(sent).toMatchObject({ status: 'sent', lastError: null, leaseOwner: null })
      expect(sent!.sentAt).toBeInstanceOf(Date)
      expect((await claimAll(catalog, 'g')).map((f) => f.id)).toEqual([all[2]!.id])
    })

    it('a failed forward no longer blocks its conversation; retry puts it back with a fresh budget', async () => {
      const catalog = ctx.catalog()
      await catalog.recordWebhooks([forwarded([], 'x'), forwarded([], 'x')])
      const [a] = await claimAll(catalog)
      expect(await catalog.settleForward(a!.id, 'f', { status: 'failed', error: 'gave up' })).toBe(true)
      const [b] = await claimAll(catalog)
      expect(b!.id).not.toBe(a!.id)
      expect((await catalog.listForwards({ status: 'failed' }, { limit: 10 })).data.map((f) => f.id)).toEqual([a!.id])
      const retried = await catalog.retryForwards([a!.id])
      expect(retried).toMatchObject([{ id: a!.id, status: 'pending', attempts: 0 }])
      expect(await catalog.retryForwards([a!.id])).toEqual([])
      expect(await catalog.retryForwards([])).toEqual([])
    })

    it('gives up on a forward whose deliveries never finish; the next of its conversation goes out in the same claim', async () => {
      const catalog = ctx.catalog()
      await catalog.recordWebhooks([forwarded([], 'c'), forwarded([], 'c')])
      const [first, second] = (await catalog.listForwards({}, { limit: 10 })).data.reverse()
      const crashLimit = 3
      const leaseMs = 60_000
      let t = Date.now() + 1000
      for (let attempt = 1; attempt <= crashLimit; attempt++) {
        const claimed = await catalog.claimForwards({ owner: `f${attempt}`, limit: 10, leaseMs, crashLimit, now: new Date(t) })
        expect(claimed.map((f) => [f.id, f.attempts])).toEqual([[first!.id, attempt]])
        t += leaseMs
      }
      const next = await catalog.claimForwards({ owner: 'g', limit: 10, leaseMs, crashLimit, now: new Date(t) })
      expect(next.map((f) => f.id)).toEqual([second!.id])
      expect(await catalog.settleForward(second!.id, 'g', { status: 'sent' })).toBe(true)
      const failed = await catalog.getForward(first!.id)
      expect(failed).toMatchObject({ status: 'failed', attempts: crashLimit, nextAttemptAt: null, leaseOwner: null, leaseExpiresAt: null, sentAt: null })
      expect(failed!.lastError).toBe('crashed: gave up after 3 attempts in a row that never finished (the process crashed, hung or lost its lease)')
      expect(await catalog.settleForward(first!.id, `f${crashLimit}`, { status: 'sent' })).toBe(false)
      expect(await catalog.claimForwards({ owner: 'h', limit: 10, leaseMs, crashLimit: 100, now: new Date(t + 3_600_000) })).toEqual([])
      // Failed like any other: retry gives it a fresh budget.
      expect(await catalog.retryForwards([first!.id])).toMatchObject([{ id: first!.id, status: 'pending', attempts: 0, leaseOwner: null }])
    })

    it('a delivery that settled starts the count of unfinished ones again', async () => {
      const catalog = ctx.catalog()
      await catalog.recordWebhooks([forwarded([], 'e')])
      let t = Date.now() + 1000
      const claim = async (owner: string) => (await catalog.claimForwards({ owner, limit: 10, leaseMs: 1000, crashLimit: 2, now: new Date(t) })).map((f) => f.id)
      const [a] = await claim('f')
      t += 1000
      expect(await claim('g')).toEqual([a]) // f ran out: one unfinished
      expect(await catalog.settleForward(a!, 'g', { status: 'retry', error: 'HTTP 500', nextAttemptAt: new Date(t) })).toBe(true)
      expect(await claim('h')).toEqual([a])
      t += 1000
      expect(await claim('i')).toEqual([a]) // h ran out: one in a row again, under the limit
      t += 1000
      expect(await claim('j')).toEqual([])
      expect(await catalog.getForward(a!)).toMatchObject({ status: 'failed', attempts: 4, lastError: expect.stringMatching(/^crashed: gave up after 2 attempts in a row/) })
    })

    it('holds a forward that waits for media until none of its media is pending', async () => {
      const catalog = ctx.catalog()
      const media = [newMedia(), newMedia()]
      const [recorded] = await catalog.recordWebhooks([forwarded(media, 'm', true)])
      expect(await claimAll(catalog)).toEqual([])
      const jobs = await catalog.claim({ owner: 'w', limit: 10, leaseMs: 60_000, crashLimit: 8, now: LATER() })
      expect(jobs).toHaveLength(2)
      expect(await catalog.settle(jobs[0]!.id, 'w', stored())).toBe(true)
      expect(await claimAll(catalog)).toEqual([])
      expect(await catalog.settle(jobs[1]!.id, 'w', { status: 'failed', error: { code: 'auth', message: 'no' } })).toBe(true)
      const [ready] = await claimAll(catalog)
      expect(ready!.webhookId).toBe(recorded!.webhookId)
      const ofWebhook = await catalog.webhookMedia(recorded!.webhookId)
      expect(ofWebhook.map((m) => m.id)).toEqual(recorded!.created.map((m) => m.id))
      expect(ofWebhook.map((m) => m.status).sort()).toEqual(['failed', 'stored'])
    })

    it('never hands one forward to two claimers at once', async () => {
      const catalog = ctx.catalog()
      const other = await ctx.open()
      await catalog.recordWebhooks(Array.from({ length: 20 }, (_, i) => forwarded([], `k${i}`)))
      const [x, y] = await Promise.all([claimAll(catalog, 'p', 15), claimAll(other, 'q', 15)])
      const ids = [...x, ...y].map((f) => f.id)
      expect(ids).toHaveLength(20)
      expect(new Set(ids).size).toBe(20)
    })

    it('lists newest first with a cursor and rejects a foreign cursor', async () => {
      const catalog = ctx.catalog()
      await catalog.recordWebhooks(Array.from({ length: 5 }, (_, i) => forwarded([], `l${i}`)))
      const one = await catalog.listForwards({}, { limit: 3 })
      const two = await catalog.listForwards({}, { limit: 3, cursor: one.nextCursor! })
      expect(two.nextCursor).toBeNull()
      const ids = [...one.data, ...two.data].map((f) => f.id)
      expect(ids).toEqual([...ids].sort().reverse())
      expect(new Set(ids).size).toBe(5)
      await expect(catalog.listForwards({}, { limit: 3, cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'bad_request' })
      expect(await catalog.getForward('fwd_nope')).toBeUndefined()
    })
  })
}
