/** list (filters, keyset pagination), requeue and counts over a mixed catalog. */
import { describe, expect, it } from 'vitest'
import type { MediaFilter } from '../../../src/catalog/catalog.js'
import type { MediaRecord, NewMedia } from '../../../src/media/record.js'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { newMedia, webhook } from '../fixtures.js'
import { stored } from './claim.js'

const BASE = Date.parse('2031-01-01T00:00:00.000Z')
const META_ERROR = { code: 'meta_error', message: 'Media download error', vendorCode: 131052 }
const AUTH_ERROR = { code: 'auth', message: 'token expired', vendorCode: 190 }

/** 25 records, received one second apart; the first four get settled (2 stored, 2 failed). */
async function populate(catalog: TestCatalog): Promise<MediaRecord[]> {
  const specs: NewMedia[] = [
    ...Array.from({ length: 12 }, () => newMedia({ accountId: 'wa-1' })),
    ...[0, 1, 2].flatMap(() => {
      const first = newMedia({ platform: 'messenger', kind: 'document', sourceType: 'file', accountId: 'page-1', sourceMediaId: null })
      return [first, { ...first, attachmentIndex: 1 }]
    }),
    ...Array.from({ length: 4 }, () => newMedia({ platform: 'instagram', kind: 'story', sourceType: 'story_mention', accountId: 'ig-1', sourceMediaId: null })),
    ...Array.from({ length: 3 }, () => newMedia({ kind: 'unknown', accountId: 'wa-2', sourceMediaId: null, error: META_ERROR })),
  ]
  const results = await catalog.recordWebhooks(specs.map((m, i) => webhook([m], { receivedAt: new Date(BASE + i * 1000) })))
  const ids = results.flatMap((r) => r.created.map((m) => m.id))
  const claimed = await catalog.claim({ owner: 'w', limit: 4, leaseMs: 60_000, crashLimit: 8 })
  expect(claimed.map((m) => m.id)).toEqual(ids.slice(0, 4))
  await catalog.settle(ids[0]!, 'w', stored())
  await catalog.settle(ids[1]!, 'w', stored({ sha256: 'b'.repeat(64) }))
  await catalog.settle(ids[2]!, 'w', { status: 'failed', error: AUTH_ERROR })
  await catalog.settle(ids[3]!, 'w', { status: 'failed', error: AUTH_ERROR })
  return Promise.all(ids.map(async (id) => (await catalog.get(id))!))
}

const newestFirst = (records: MediaRecord[]) => records.map((m) => m.id).sort().reverse()

async function listAll(catalog: TestCatalog, filter: MediaFilter, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = []
  let cursor: string | undefined
  let pages = 0
  for (; pages < 100; ) {
    const page = await catalog.list(filter, { limit, ...(cursor ? { cursor } : {}) })
    pages += 1
    expect(page.data.length).toBeLessThanOrEqual(limit)
    ids.push(...page.data.map((m) => m.id))
    if (page.nextCursor === null) break
    cursor = page.nextCursor
  }
  return { ids, pages }
}

export function queryTests(ctx: ConformanceContext): void {
  describe('list', () => {
    it('pages newest first with a cursor, without gaps or duplicates', async () => {
      const catalog = ctx.catalog()
      const records = await populate(catalog)
      const expected = newestFirst(records)
      const whole = await catalog.list({}, { limit: 1000 })
      expect(whole.data.map((m) => m.id)).toEqual(expected)
      expect(whole.nextCursor).toBeNull()
      expect(whole.data).toEqual(expected.map((id) => records.find((r) => r.id === id)))
      expect(await listAll(catalog, {}, 4)).toEqual({ ids: expected, pages: 7 })
      // An exact multiple of the page size ends without an empty page.
      expect(await listAll(catalog, {}, 5)).toEqual({ ids: expected, pages: 5 })
      expect(await listAll(catalog, {}, 1)).toEqual({ ids: expected, pages: 25 })
    })

    it('filters by every field of MediaFilter, alone and combined, across pages', async () => {
      const catalog = ctx.catalog()
      const records = await populate(catalog)
      const cases: [MediaFilter, (m: MediaRecord) => boolean][] = [
        [{ platform: 'messenger' }, (m) => m.platform === 'messenger'],
        [{ status: 'failed' }, (m) => m.status === 'failed'],
        [{ status: 'stored' }, (m) => m.status === 'stored'],
        [{ kind: 'story' }, (m) => m.kind === 'story'],
        [{ accountId: 'wa-2' }, (m) => m.accountId === 'wa-2'],
        [{ messageId: records[12]!.messageId }, (m) => m.messageId === records[12]!.messageId],
        [{ errorCode: 'auth' }, (m) => m.error?.code === 'auth'],
        [{ receivedAfter: new Date(BASE + 5000), receivedBefore: new Date(BASE + 10_000) }, (m) => m.receivedAt.getTime() >= BASE + 5000 && m.receivedAt.getTime() < BASE + 10_000],
        [{ platform: 'whatsapp', status: 'failed', errorCode: 'meta_error' }, (m) => m.platform === 'whatsapp' && m.status === 'failed' && m.error?.code === 'meta_error'],
        [{ platform: 'instagram', kind: 'image' }, () => false],
        [{ status: ['failed', 'stored'] }, (m) => m.status === 'failed' || m.status === 'stored'],
        [{ status: ['pending', 'failed'], platform: 'whatsapp' }, (m) => (m.status === 'pending' || m.status === 'failed') && m.platform === 'whatsapp'],
        [{ status: [] }, () => false],
        [{ changedAfter: records[3]!.updatedAt }, (m) => m.updatedAt.getTime() >= records[3]!.updatedAt.getTime()],
        [{ status: 'failed', changedAfter: new Date(records[3]!.updatedAt.getTime() + 1) }, (m) => m.status === 'failed' && m.updatedAt.getTime() > records[3]!.updatedAt.getTime()],
      ]
      for (const [filter, predicate] of cases) {
        const expected = newestFirst(records.filter(predicate))
        expect((await listAll(catalog, filter, 3)).ids, JSON.stringify(filter)).toEqual(expected)
      }
      expect(newestFirst(records.filter((m) => m.messageId === records[12]!.messageId))).toHaveLength(2)
    })

    it('rejects a cursor it did not issue and a limit out of 1..1000 with bad_request', async () => {
      const catalog = ctx.catalog()
      for (const cursor of ['garbage!', Buffer.from('med_short').toString('base64url'), Buffer.from("med_' or 1=1 --").toString('base64url')]) {
        await expect(catalog.list({}, { limit: 10, cursor })).rejects.toMatchObject({ code: 'bad_request' })
      }
      for (const limit of [0, 1001, 1.5, Number.NaN]) {
        await expect(catalog.list({}, { limit })).rejects.toMatchObject({ code: 'bad_request' })
      }
    })
  })

  describe('requeue', () => {
    it('puts matching failed media back in the queue with a fresh budget', async () => {
      const catalog = ctx.catalog()
      const records = await populate(catalog)
      const failedAuth = records.filter((m) => m.error?.code === 'auth')
      const storedOne = records.find((m) => m.status === 'stored')!
      expect(failedAuth).toHaveLength(2)

      expect(await catalog.requeue({ ids: [storedOne.id] })).toBe(0)
      expect(await catalog.requeue({ ids: [] })).toBe(0)
      expect(await catalog.requeue({ status: 'pending' })).toBe(0)
      expect(await catalog.requeue({ errorCode: 'auth', platform: 'messenger' })).toBe(0)

      const before = Date.now()
      expect(await catalog.requeue({ ids: [failedAuth[0]!.id, storedOne.id] })).toBe(1)
      const requeued = (await catalog.get(failedAuth[0]!.id))!
      expect(requeued).toMatchObject({ status: 'pending', attempts: 0, error: null, leaseOwner: null, leaseExpiresAt: null })
      expect(requeued.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(before)
      expect(requeued.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now())
      expect(await catalog.get(storedOne.id)).toEqual(storedOne)

      expect(await catalog.requeue({ status: 'failed', errorCode: 'auth', platform: 'whatsapp' })).toBe(1)
      expect(await catalog.requeue({})).toBe(3)
      expect(await catalog.requeue({})).toBe(0)
      expect((await catalog.list({ status: 'failed' }, { limit: 10 })).data).toEqual([])

      const claimed = await catalog.claim({ owner: 'w2', limit: 100, leaseMs: 1000, crashLimit: 8, now: new Date(Date.now() + 1000) })
      expect(claimed.map((m) => m.id)).toContain(failedAuth[0]!.id)
      expect(claimed.find((m) => m.id === failedAuth[0]!.id)!.attempts).toBe(1)
    })
  })

  describe('counts', () => {
    it('counts records per platform and status', async () => {
      const catalog = ctx.catalog()
      expect(await catalog.counts()).toEqual([])
      await populate(catalog)
      expect(await catalog.counts()).toEqual([
        { platform: 'instagram', status: 'pending', count: 4 },
        { platform: 'messenger', status: 'pending', count: 6 },
        { platform: 'whatsapp', status: 'failed', count: 5 },
        { platform: 'whatsapp', status: 'pending', count: 8 },
        { platform: 'whatsapp', status: 'stored', count: 2 },
      ])
    })
  })

  describe('summary', () => {
    it('reports the oldest pending media and what was stored or failed since a moment', async () => {
      const catalog = ctx.catalog()
      const empty = await catalog.summary(new Date(0))
      expect(empty).toMatchObject({ counts: [], oldestPendingAt: null, storedSince: 0, failedSince: [] })
      const before = Date.now()
      const records = await populate(catalog)
      const summary = await catalog.summary(new Date(before))
      expect(summary.counts).toEqual(await catalog.counts())
      // The oldest pending is the fifth record (the first four were settled), received at BASE + 4 s.
      expect(summary.oldestPendingAt).toEqual(records[4]!.receivedAt)
      expect(summary.storedSince).toBe(2)
      expect(summary.failedSince).toEqual([
        { code: 'auth', count: 2 },
        { code: 'meta_error', count: 3 },
      ])
      const later = await catalog.summary(new Date(Date.now() + 60_000))
      expect(later.storedSince).toBe(0)
      expect(later.failedSince).toEqual([])
    })
  })

  describe('exportRows / importRows', () => {
    it('pages through raw rows in id order and re-imports idempotently', async () => {
      const catalog = ctx.catalog()
      const records = await populate(catalog)
      const rows: Record<string, unknown>[] = []
      let after: string | null = null
      for (let guard = 0; guard < 100; guard++) {
        const page = await catalog.exportRows('media', after, 7)
        if (page.length === 0) break
        rows.push(...page)
        after = page.at(-1)!.id as string
      }
      expect(rows.map((r) => r.id)).toEqual(records.map((m) => m.id).sort())
      const webhooks = await catalog.exportRows('webhooks', null, 1000)
      expect(webhooks.length).toBeGreaterThan(0)
      expect(Buffer.isBuffer(webhooks[0]!.body) || webhooks[0]!.body instanceof Uint8Array).toBe(true)
      expect(await catalog.importRows('webhooks', webhooks)).toBe(0)
      expect(await catalog.importRows('media', rows)).toBe(0)
      expect(await catalog.get(records[0]!.id)).toEqual(records[0])
    })
  })
}
