/** Batch actions at their cap, on a real SQLite catalog: a filter of 10,001 media. */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { CountChangedError, MAX_FILTER_MATCH, runBatch } from '../../src/serve/batch-actions.js'
import { newMedia } from '../catalog/fixtures.js'

let catalog: SqliteCatalog
const erased: string[][] = []
const eraser = {
  erase: async (ids: string[]) => {
    erased.push(ids)
    return catalog.markDeleted(ids)
  },
}

beforeAll(async () => {
  catalog = new SqliteCatalog({ path: ':memory:' })
  await catalog.migrate()
  const error = { code: 'upstream', message: 'Graph answered HTTP 503' }
  for (let i = 0; i < MAX_FILTER_MATCH + 1; i += 1000) {
    const n = Math.min(1000, MAX_FILTER_MATCH + 1 - i)
    await catalog.recordWebhooks(
      Array.from({ length: n }, (_, j) => ({ object: 'whatsapp_business_account', body: randomBytes(16), receivedAt: new Date(1_900_000_000_000 + i + j), media: [newMedia({ accountId: 'big', error })] })),
    )
  }
}, 120_000)
afterAll(async () => catalog?.close())

describe('a filter matching more than 10,000 media', () => {
  it('counts 10,001 and capped, as GET /v1/media/count does', async () => {
    expect(await catalog.count({ accountId: 'big' }, { atMost: MAX_FILTER_MATCH })).toEqual({ count: MAX_FILTER_MATCH + 1, capped: true })
  })

  it('refuses another expected count and does nothing', async () => {
    const err = await runBatch({ action: 'retry', filter: { accountId: 'big' }, expected: MAX_FILTER_MATCH }, { catalog, eraser }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CountChangedError)
    expect(err).toMatchObject({ code: 'count_changed', status: 409, count: MAX_FILTER_MATCH + 1, capped: true })
    expect(await catalog.count({ accountId: 'big', status: 'failed' }, { atMost: MAX_FILTER_MATCH })).toMatchObject({ capped: true })
  })

  it('acts on the newest 10,000 when the confirmed count is the capped one, and says capped', async () => {
    const outcome = await runBatch({ action: 'retry', filter: { accountId: 'big' }, expected: MAX_FILTER_MATCH + 1 }, { catalog, eraser })
    expect(outcome).toEqual({ action: 'retry', matched: MAX_FILTER_MATCH + 1, done: MAX_FILTER_MATCH, skipped: [], capped: true })
    const left = (await catalog.list({ accountId: 'big', status: 'failed' }, { limit: 10 })).data
    expect(left).toHaveLength(1)
    // The oldest one is the one left.
    const newest = (await catalog.list({ accountId: 'big' }, { limit: 1000, cursor: undefined })).data
    expect(left[0]!.receivedAt.getTime()).toBe(1_900_000_000_000)
    expect(newest.every((m) => m.status === 'pending')).toBe(true)
  })

  it('deletes through the eraser in bounded chunks', async () => {
    const outcome = await runBatch({ action: 'delete', filter: { accountId: 'big', status: 'pending' }, expected: MAX_FILTER_MATCH }, { catalog, eraser })
    expect(outcome).toMatchObject({ matched: MAX_FILTER_MATCH, done: MAX_FILTER_MATCH, capped: false })
    expect(erased.map((ids) => ids.length)).toEqual(Array.from({ length: MAX_FILTER_MATCH / 500 }, () => 500))
    expect(await catalog.count({ accountId: 'big', status: 'deleted' }, { atMost: MAX_FILTER_MATCH })).toEqual({ count: MAX_FILTER_MATCH, capped: false })
  })
})
