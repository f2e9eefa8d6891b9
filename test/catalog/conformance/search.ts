/** The search text of a filter (`q`) and counting a filter up to a cap. */
import { describe, expect, it } from 'vitest'
import type { MediaFilter } from '../../../src/catalog/catalog.js'
import type { MediaRecord, NewMedia } from '../../../src/media/record.js'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { newMedia, webhook } from '../fixtures.js'

const BASE = Date.parse('2031-02-01T00:00:00.000Z')

/** Records whose ids, captions and filenames the searches below tell apart; received a second apart. */
const SPECS: Partial<NewMedia>[] = [
  { senderId: '15551234567', messageId: 'wamid.HBgLMTU1NTEyMzQ1NjcVAgA', caption: 'Invoice for March' },
  { senderId: '15559876543', senderUserId: 'US.13491208655302741918', messageId: 'wamid.HBgLMTU1NTk4NzY1NDMVAgB', filename: 'Contract_FINAL.pdf', kind: 'document', sourceType: 'document' },
  { senderId: 'US.13491208655302741918', senderUserId: 'US.13491208655302741918', messageId: 'wamid.other-1', caption: 'the 100% real deal' },
  { platform: 'messenger', accountId: 'page-1', senderId: '24012345678901234', messageId: 'm_AbCdEf', filename: 'photo_1.jpg', sourceMediaId: null },
  { platform: 'messenger', accountId: 'page-1', senderId: '24012345678901234', messageId: 'm_AbCdEg', caption: 'photoX1 with a backslash \\ inside', sourceMediaId: null },
  { platform: 'instagram', accountId: 'ig-1', senderId: '17841400000000000', messageId: 'aWdfZAG1', caption: 'ÉTÉ à Paris', kind: 'story', sourceType: 'story_mention', sourceMediaId: null },
  { senderId: '4915112345678', messageId: 'wamid.de-1', caption: null, filename: null },
]

async function populate(catalog: TestCatalog): Promise<MediaRecord[]> {
  const specs = SPECS.map((s) => newMedia(s))
  const results = await catalog.recordWebhooks(specs.map((m, i) => webhook([m], { receivedAt: new Date(BASE + i * 1000) })))
  const ids = results.flatMap((r) => r.created.map((m) => m.id))
  return Promise.all(ids.map(async (id) => (await catalog.get(id))!))
}

async function search(catalog: TestCatalog, filter: MediaFilter, limit = 2, sizes: number[] = [], searchWindow?: number): Promise<string[]> {
  const found: string[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 50; pages++) {
    const page = await catalog.list(filter, { limit, ...(cursor ? { cursor } : {}), ...(searchWindow ? { searchWindow } : {}) })
    sizes.push(page.data.length)
    found.push(...page.data.map((m) => m.id))
    if (page.nextCursor === null) return found
    cursor = page.nextCursor
  }
  throw new Error('more pages than records')
}

export function searchTests(ctx: ConformanceContext): void {
  describe('search (q)', () => {
    it('finds senders, BSUIDs and message ids by prefix, captions and filenames by substring, newest first across pages', async () => {
      const catalog = ctx.catalog()
      const r = await populate(catalog)
      const ids = (...indexes: number[]) => indexes.map((i) => r[i]!.id).sort().reverse()
      const cases: [string, string[]][] = [
        ['1555', ids(0, 1)], // phone prefix
        ['15551234567', ids(0)],
        ['5551234', []], // a phone's middle is not a prefix
        ['US.1349', ids(1, 2)], // BSUID in sender_user_id (1) and as sender_id (2)
        ['us.1349', []], // ids keep their case
        ['wamid.HBgLMTU1NTk', ids(1)], // message-id prefix
        ['m_AbCdE', ids(3, 4)],
        ['invoice', ids(0)], // caption, any case
        ['MARCH', ids(0)],
        ['contract_final', ids(1)], // filename, any case
        ['.pdf', ids(1)],
        ['100%', ids(2)], // % is literal
        ['0% r', ids(2)],
        ['o_1', ids(3)], // _ is literal: 'photoX1' must not match
        ['%', ids(2)],
        ['_', ids(1, 3)],
        ['\\', ids(4)], // the escape character itself
        ['ÉTÉ', ids(5)], // non-ASCII, exact case
        ['à paris', ids(5)],
        ["' or 1=1 --", []],
        ['nothing-like-this', []],
      ]
      for (const [q, expected] of cases) {
        expect(await search(catalog, { q }), q).toEqual(expected)
        expect(await catalog.count({ q }, { atMost: 100 }), q).toEqual({ count: expected.length, capped: false })
      }
    })

    it('combines with every other filter', async () => {
      const catalog = ctx.catalog()
      const r = await populate(catalog)
      expect(await search(catalog, { q: 'photo', platform: 'messenger' })).toEqual([r[3]!.id, r[4]!.id].sort().reverse())
      expect(await search(catalog, { q: 'photo', platform: 'whatsapp' })).toEqual([])
      expect(await search(catalog, { q: '1555', kind: 'document' })).toEqual([r[1]!.id])
      expect(await search(catalog, { q: 'US.', sender: '15559876543' })).toEqual([r[1]!.id])
      expect(await search(catalog, { q: 'm_', receivedAfter: new Date(BASE + 4000) })).toEqual([r[4]!.id])
      expect(await search(catalog, { q: 'm_', receivedBefore: new Date(BASE + 4000) })).toEqual([r[3]!.id])
      expect(await search(catalog, { q: 'aWdf', accountId: 'ig-1', status: 'pending' })).toEqual([r[5]!.id])
      expect(await search(catalog, { q: 'aWdf', status: 'stored' })).toEqual([])
    })
  })

  describe('search window', () => {
    it('examines a bounded number of records per page and pages on below it, missing nothing', async () => {
      const catalog = ctx.catalog()
      const r = await populate(catalog)
      const newest = (...indexes: number[]) => indexes.map((i) => r[i]!.id).sort().reverse()
      // Windows of 2 over 7 records, newest first: {6,5} {4,3} {2,1} {0}; the matches are 1 and 0.
      const sizes: number[] = []
      expect(await search(catalog, { q: '1555' }, 5, sizes, 2)).toEqual(newest(0, 1))
      expect(sizes).toEqual([0, 0, 1, 1])
      const all: number[] = []
      expect(await search(catalog, { q: 'photo' }, 1, all, 3)).toEqual(newest(3, 4))
      expect(all.reduce((a, b) => a + b, 0)).toBe(2)
      // Without q the window does not apply: one page.
      const plain: number[] = []
      expect(await search(catalog, {}, 10, plain, 2)).toHaveLength(7)
      expect(plain).toEqual([7])
      await expect(catalog.list({ q: 'x' }, { limit: 5, searchWindow: 0 })).rejects.toMatchObject({ code: 'bad_request' })
    })
  })

  describe('count', () => {
    it('counts what list would list, exactly up to the cap, then says capped', async () => {
      const catalog = ctx.catalog()
      expect(await catalog.count({}, { atMost: 10 })).toEqual({ count: 0, capped: false })
      await populate(catalog)
      expect(await catalog.count({}, { atMost: 10 })).toEqual({ count: 7, capped: false })
      expect(await catalog.count({}, { atMost: 7 })).toEqual({ count: 7, capped: false })
      expect(await catalog.count({}, { atMost: 6 })).toEqual({ count: 7, capped: true })
      expect(await catalog.count({}, { atMost: 3 })).toEqual({ count: 4, capped: true })
      expect(await catalog.count({ platform: 'messenger' }, { atMost: 10 })).toEqual({ count: 2, capped: false })
      expect(await catalog.count({ platform: 'messenger', q: 'photo_' }, { atMost: 10 })).toEqual({ count: 1, capped: false })
      expect(await catalog.count({ status: 'failed' }, { atMost: 0 })).toEqual({ count: 0, capped: false })
      expect(await catalog.count({}, { atMost: 0 })).toEqual({ count: 1, capped: true })
      for (const atMost of [-1, 1.5, 100_001]) {
        await expect(catalog.count({}, { atMost })).rejects.toMatchObject({ code: 'bad_request' })
      }
    })
  })
}
