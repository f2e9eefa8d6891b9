/**
 * The API behind the on-call dashboard, over real HTTP on a real gateway (issue 16): search
 * (`q`), counting a filter, failure explanations on records, and batch retry and delete, with the
 * API key and with a dashboard session.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import type { NewMedia } from '../../src/media/record.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { newMedia } from '../catalog/fixtures.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => h?.close())

/** A fresh account id: each test filters on its own records only. */
const account = () => `acct-${randomBytes(5).toString('hex')}`

/** Records media straight in the catalog; with an `error` they are failed at once and never captured. */
async function record(specs: Partial<NewMedia>[]): Promise<string[]> {
  const results = await h.gateway.catalog.recordWebhooks(
    specs.map((spec, i) => ({
      object: 'whatsapp_business_account',
      body: randomBytes(16),
      receivedAt: new Date(Date.now() - (specs.length - i) * 1000),
      media: [newMedia({ sourceMediaId: '1', error: { code: 'auth', message: 'Graph answered HTTP 401 code 190' }, ...spec })],
    })),
  )
  return results.map((r) => r.created[0]!.id)
}

async function json<T>(res: Response | Promise<Response>): Promise<{ status: number; body: T }> {
  const r = await res
  return { status: r.status, body: (await r.json()) as T }
}

const count = async (query: string) => json<{ count: number; capped: boolean; error?: { message: string } }>(h.api(`/v1/media/count?${query}`))
const get = async (id: string) => (await json<MediaJson>(h.api(`/v1/media/${id}`))).body
const batch = (body: unknown, headers: Record<string, string> = {}) =>
  json<{ action: string; matched: number; done: number; skipped: { id: string; reason: string }[]; capped: boolean; error?: { code: string; message: string; count: number } }>(
    h.api('/v1/media/batch', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }),
  )

describe('search and count', () => {
  it('finds media by sender prefix, caption and filename, combined with filters, and counts what it lists', async () => {
    const accountId = account()
    const [invoice, contract, other] = await record([
      { accountId, senderId: '15557770001', caption: 'Invoice 100% paid' },
      { accountId, senderId: '15557770002', filename: 'Contract_v2.pdf', error: { code: 'meta_error', message: '131052: Media download error' } },
      { accountId, senderId: '4915100000000', caption: 'holiday' },
    ])
    const list = async (query: string) => (await json<{ data: MediaJson[] }>(h.api(`/v1/media?account_id=${accountId}&${query}`))).body.data.map((m) => m.id)
    expect(await list('q=1555777')).toEqual([contract, invoice])
    expect(await list('q=INVOICE')).toEqual([invoice])
    expect(await list(`q=${encodeURIComponent('100%')}`)).toEqual([invoice])
    expect(await list(`q=${encodeURIComponent('t_v')}`)).toEqual([contract])
    expect(await list('q=1555777&error_code=auth')).toEqual([invoice])
    expect(await list('q=1555777&limit=1')).toEqual([contract])
    expect(await list('q=holiday')).toEqual([other])

    expect(await count(`account_id=${accountId}`)).toEqual({ status: 200, body: { count: 3, capped: false } })
    expect(await count(`account_id=${accountId}&q=1555777&error_code=meta_error`)).toEqual({ status: 200, body: { count: 1, capped: false } })
    const limited = await count(`account_id=${accountId}&limit=5`)
    expect(limited.status).toBe(400)
    expect(limited.body.error!.message).toContain('unknown query parameter "limit"')
  })

  it('lists several statuses at once, and what changed since an instant', async () => {
    const accountId = account()
    const [requeued, erased, untouched] = await record([{ accountId }, { accountId }, { accountId }])
    // Past the millisecond the records were written in: `changed_after` is inclusive.
    await new Promise((resolve) => setTimeout(resolve, 5))
    const before = new Date()
    expect(await h.gateway.catalog.requeue({ ids: [requeued!], status: 'failed' })).toBe(1)
    expect((await h.api(`/v1/media/${erased}`, { method: 'DELETE' })).status).toBe(200)
    const list = async (query: string) => (await json<{ data: MediaJson[] }>(h.api(`/v1/media?account_id=${accountId}&${query}`))).body.data.map((m) => m.id).sort()
    // The requeued media may be tried (and fail again) meanwhile: pending or failed, never deleted.
    expect(await list('status=pending,failed,stored,remote')).toEqual([requeued, untouched].sort())
    expect(await list('status=deleted')).toEqual([erased])
    expect(await list(`changed_after=${encodeURIComponent(before.toISOString())}`)).toEqual([requeued, erased].sort())
    expect(await count(`account_id=${accountId}&status=pending,failed,deleted`)).toEqual({ status: 200, body: { count: 3, capped: false } })
    const bad = await json<{ error: { message: string } }>(h.api('/v1/media?status=stored,lost'))
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('"lost"')
  })

  it('refuses an empty search, and both routes need the API key', async () => {
    const spaces = await json<{ error: { code: string; message: string } }>(h.api('/v1/media?q=%20%20'))
    expect(spaces).toMatchObject({ status: 400, body: { error: { code: 'bad_request', message: expect.stringContaining('q must') } } })
    expect((await fetch(`${h.gateway.url}/v1/media/count`)).status).toBe(401)
    expect((await fetch(`${h.gateway.url}/v1/media/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401)
  })
})

describe('failure explanations on records', () => {
  it('explains a failed media and leaves the rest without a failure field', async () => {
    const accountId = account()
    const [authFailed, metaFailed, pending] = await record([
      { accountId },
      { accountId, error: { code: 'meta_error', message: '131052: Media download error', vendorCode: 131052 } },
      { accountId, error: null, sourceMediaId: null },
    ])
    expect((await get(authFailed!)).failure).toEqual({ code: 'auth', summary: expect.stringContaining('access token'), retry: 'after_fix', fix: expect.stringContaining('WHATSAPP_ACCESS_TOKEN') })
    expect((await get(metaFailed!)).failure).toMatchObject({ code: 'meta_error', retry: 'no' })
    const listed = (await json<{ data: MediaJson[] }>(h.api(`/v1/media?account_id=${accountId}&status=failed`))).body.data
    // The sourceless record may already have failed too (the worker runs meanwhile): leave it out here.
    expect(listed.filter((m) => m.id !== pending).map((m) => m.failure?.code)).toEqual(['meta_error', 'auth'])
    const [settled] = await h.settled([pending!])
    // No source at all: a failure (source_rejected), explained.
    expect(settled).toMatchObject({ status: 'failed', failure: { code: settled!.error!.code } })

    const stored = await h.storedWhatsApp(randomBytes(2000), { type: 'document', mimeType: 'application/pdf', fields: { filename: 'ok.pdf' } })
    expect('failure' in stored).toBe(false)
  })
})

describe('POST /v1/media/batch', () => {
  it('retries named ids as the one-media route would, and says why it skipped the others', async () => {
    const accountId = account()
    const [failed, infected, stored] = await record([{ accountId }, { accountId, error: { code: 'infected', message: 'Eicar-Test-Signature' } }, { accountId }])
    await h.gateway.catalog.markDeleted([stored!])
    const unknown = 'med_01JD0000000000000000000000'
    const res = await batch({ action: 'retry', ids: [failed, infected, stored, unknown, failed] })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ action: 'retry', matched: 3, done: 1, capped: false })
    const reasons = Object.fromEntries(res.body.skipped.map((s) => [s.id, s.reason]))
    expect(Object.keys(reasons).sort()).toEqual([infected, stored, unknown].sort())
    expect(reasons[infected!]).toContain('scan --release')
    expect(reasons[stored!]).toContain('only failed media can be retried')
    expect(reasons[unknown]).toContain('no media')
    // The one-media route answers the same refusal.
    const single = await json<{ error: { message: string } }>(h.api(`/v1/media/${infected}/retry`, { method: 'POST' }))
    expect(single).toEqual({ status: 409, body: { error: { code: 'conflict', message: `media ${infected} cannot be retried: ${reasons[infected!]}` } } })
    // Requeued, so captured again: the emulator knows no media id 1, so it fails anew, not with auth.
    const [retried] = await h.settled([failed!])
    expect(retried!.attempts).toBeGreaterThan(0)
    expect(retried!.error?.code).not.toBe('auth')
    expect((await get(infected!)).status).toBe('failed')
  })

  it('acts on a filter only when its count is the one confirmed, and answers 409 count_changed otherwise', async () => {
    const accountId = account()
    const ids = await record([{ accountId, caption: 'batch me' }, { accountId, caption: 'batch me too' }, { accountId, caption: 'not this' }])
    const count = (await json<{ count: number }>(h.api(`/v1/media/count?account_id=${accountId}&q=batch`))).body.count
    expect(count).toBe(2)
    const stale = await batch({ action: 'delete', filter: { account_id: accountId, q: 'batch' }, expected: 3 })
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'count_changed', count: 2 } } })
    for (const id of ids) expect((await get(id)).status).toBe('failed')

    const done = await batch({ action: 'delete', filter: { account_id: accountId, q: 'batch' }, expected: count })
    expect(done).toEqual({ status: 200, body: { action: 'delete', matched: 2, done: 2, skipped: [], capped: false } })
    expect((await Promise.all(ids.map(get))).map((m) => m.status)).toEqual(['deleted', 'deleted', 'failed'])
    // Tombstones drop their caption; by status they are found, and skipped.
    const again = await batch({ action: 'delete', filter: { account_id: accountId, status: 'deleted' }, expected: 2 })
    expect(again.body).toMatchObject({ action: 'delete', matched: 2, done: 0, capped: false })
    expect(again.body.skipped.map((s) => s.reason)).toEqual([expect.stringContaining('deleted already'), expect.stringContaining('deleted already')])
  })

  it('erases stored media through the eraser: the content is gone, the tombstone stays', async () => {
    const stored = await h.storedWhatsApp(randomBytes(3000), { type: 'document', mimeType: 'application/pdf', fields: { filename: 'erase-me.pdf' } })
    expect((await h.api(`/v1/media/${stored.id}/content`)).status).toBe(200)
    const res = await batch({ action: 'delete', ids: [stored.id] })
    expect(res.body).toEqual({ action: 'delete', matched: 1, done: 1, skipped: [], capped: false })
    expect((await get(stored.id)).status).toBe('deleted')
    expect((await h.api(`/v1/media/${stored.id}/content`)).status).toBe(410)
    await expect(h.gateway.blobs.stat(blobKeyFor(stored.sha256!))).resolves.toBeUndefined()
  })

  it('retries every failed media of a filter with one call', async () => {
    const accountId = account()
    const ids = await record([{ accountId }, { accountId }, { accountId, error: { code: 'infected', message: 'Eicar' } }])
    const res = await batch({ action: 'retry', filter: { account_id: accountId, status: 'failed', error_code: 'auth' }, expected: 2 })
    expect(res.body).toEqual({ action: 'retry', matched: 2, done: 2, skipped: [], capped: false })
    const settled = await h.settled(ids.slice(0, 2))
    expect(settled.map((m) => m.error?.code === 'auth')).toEqual([false, false])
    expect((await get(ids[2]!)).error?.code).toBe('infected')
  })

  it('refuses malformed bodies with a message', async () => {
    const cases: [unknown, string][] = [
      [[], 'JSON object'],
      [{ action: 'archive', ids: ['x'] }, 'action must be one of retry, delete'],
      [{ action: 'retry' }, 'either ids or filter'],
      [{ action: 'retry', ids: ['x'], filter: {} }, 'either ids or filter'],
      [{ action: 'retry', ids: [] }, 'ids must be an array of 1 to 1000'],
      [{ action: 'retry', ids: Array.from({ length: 1001 }, (_, i) => `med_${i}`) }, 'ids must be an array of 1 to 1000'],
      [{ action: 'retry', ids: [42] }, 'every id'],
      [{ action: 'retry', ids: ['x'], expected: 1 }, 'expected goes with filter'],
      [{ action: 'retry', filter: { status: 'failed' } }, 'expected must be given'],
      [{ action: 'retry', filter: { status: 'failed' }, expected: -1 }, 'expected must be given'],
      [{ action: 'retry', filter: { colour: 'red' }, expected: 1 }, 'unknown filter field "colour"'],
      [{ action: 'retry', filter: { status: 'sad' }, expected: 1 }, 'status must be one of'],
      [{ action: 'retry', filter: { q: 7 }, expected: 1 }, 'q must be given once'],
      [{ action: 'retry', filter: 'status=failed', expected: 1 }, 'filter must be a JSON object'],
      [{ action: 'retry', ids: ['x'], extra: true }, 'unknown field "extra"'],
    ]
    for (const [body, message] of cases) {
      const res = await batch(body)
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400)
      expect((res.body as unknown as { error: { code: string; message: string } }).error).toMatchObject({ code: 'bad_request', message: expect.stringContaining(message) })
    }
  })

  it('takes a dashboard session, which must carry the CSRF header', async () => {
    const [failed] = await record([{ accountId: account() }])
    const signIn = await fetch(`${h.gateway.url}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: API_KEY }) })
    expect(signIn.status).toBe(200)
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!
    const post = (headers: Record<string, string>) =>
      fetch(`${h.gateway.url}/v1/media/batch`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, ...headers }, body: JSON.stringify({ action: 'retry', ids: [failed] }) })
    expect((await post({})).status).toBe(403)
    expect((await get(failed!)).status).toBe('failed')
    const ok = await post({ 'x-mediagate-csrf': '1' })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ done: 1 })
    const count = await fetch(`${h.gateway.url}/v1/media/count?status=failed`, { headers: { cookie } })
    expect(count.status).toBe(200)
  })
})
