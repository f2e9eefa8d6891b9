/** The /v1 API over real HTTP: auth, listing, Range, conditional requests, safe headers. */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messengerMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

let h: Harness
let jpeg: { record: MediaJson; bytes: Buffer }
let html: { record: MediaJson; bytes: Buffer }

// A real JPEG header, so the bytes are sniffed as image/jpeg.
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(50_000), Buffer.from('ffd9', 'hex')])

async function capture(bytes: Buffer, mimeType: string, filename: string) {
  return { record: await h.storedWhatsApp(bytes, { type: 'document', mimeType, fields: { filename } }), bytes }
}

beforeAll(async () => {
  h = await startHarness()
  jpeg = await capture(JPEG, 'image/jpeg', 'photo.jpg')
  html = await capture(Buffer.from('<html><script>alert(1)</script></html>'), 'image/jpeg', '../../evil.html')
})
afterAll(async () => h?.close())

describe('auth and errors', () => {
  it('refuses a missing or wrong API key with 401', async () => {
    expect((await fetch(`${h.gateway.url}/v1/media`)).status).toBe(401)
    const wrong = await fetch(`${h.gateway.url}/v1/media`, { headers: { authorization: 'Bearer wrong-key-wrong-key' } })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({ error: { code: 'unauthorized' } })
  })
  it('answers 404 for unknown ids', async () => {
    const res = await h.api('/v1/media/med_00000000000000000000000000')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } })
    expect((await h.api('/v1/media/nope/content')).status).toBe(404)
  })
  it.each(['limit=0', 'limit=abc', 'limit=5000', 'status=lost', 'platform=telegram', 'received_after=yesterday', 'colour=blue'])(
    'answers 400 with a message for %s',
    async (query) => {
      const res = await h.api(`/v1/media?${query}`)
      expect(res.status).toBe(400)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('bad_request')
      expect(body.error.message.length).toBeGreaterThan(10)
    },
  )
  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${h.gateway.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ catalog: 'ok', blobs: 'ok', scanner: 'off' })
  })
})

describe('content', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

  it('serves a sniffed image inline with ETag, length and ranges advertised', async () => {
    const res = await h.api(`/v1/media/${jpeg.record.id}/content`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/jpeg')
    expect(res.headers.get('content-disposition')).toMatch(/^inline; filename="photo.jpg"/)
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('etag')).toBe(`"${sha(JPEG)}"`)
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(JPEG))
  })

  it('answers Range requests with 206 and the exact slice', async () => {
    for (const [range, start, end] of [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      [`bytes=-10`, JPEG.length - 10, JPEG.length - 1],
      [`bytes=${JPEG.length - 5}-`, JPEG.length - 5, JPEG.length - 1],
    ] as const) {
      const res = await h.api(`/v1/media/${jpeg.record.id}/content`, { headers: { range } })
      expect(res.status).toBe(206)
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${JPEG.length}`)
      expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), JPEG.subarray(start, end + 1))).toBe(0)
    }
    const bad = await h.api(`/v1/media/${jpeg.record.id}/content`, { headers: { range: `bytes=${JPEG.length + 10}-` } })
    expect(bad.status).toBe(416)
    expect(bad.headers.get('content-range')).toBe(`bytes */${JPEG.length}`)
  })

  it('answers If-None-Match with 304 and no body', async () => {
    const res = await h.api(`/v1/media/${jpeg.record.id}/content`, { headers: { 'if-none-match': `"${sha(JPEG)}"` } })
    expect(res.status).toBe(304)
    expect((await res.arrayBuffer()).byteLength).toBe(0)
    const other = await h.api(`/v1/media/${jpeg.record.id}/content`, { headers: { 'if-none-match': '"something-else"' } })
    expect(other.status).toBe(200)
  })

  it('serves bytes that only claim to be an image as an attachment, with a safe name', async () => {
    const res = await h.api(`/v1/media/${html.record.id}/content`)
    expect(res.status).toBe(200)
    const disposition = res.headers.get('content-disposition')!
    expect(disposition).toMatch(/^attachment; /)
    expect(disposition).not.toContain('/')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    await res.arrayBuffer()
  })
})

describe('listing', () => {
  it('pages through every record with the cursor, without duplicates', async () => {
    for (let i = 0; i < 5; i++) {
      const media = h.emulator.addCdnMedia({ platform: 'messenger', bytes: randomBytes(100), mimeType: 'image/jpeg' })
      await h.postWebhook(messengerMessage({ attachments: [{ type: 'image', url: media.url! }] }))
    }
    const all = ((await (await h.api('/v1/media?limit=1000')).json()) as { data: MediaJson[] }).data
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await h.api(`/v1/media?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      const page = (await res.json()) as { data: MediaJson[]; next_cursor: string | null }
      seen.push(...page.data.map((m) => m.id))
      cursor = page.next_cursor
    } while (cursor)
    expect(seen).toEqual(all.map((m) => m.id))
    expect(new Set(seen).size).toBe(seen.length)
  })

  it('filters by platform and status', async () => {
    const res = await h.api('/v1/media?platform=messenger&limit=1000')
    const data = ((await res.json()) as { data: MediaJson[] }).data
    expect(data.length).toBeGreaterThanOrEqual(5)
    expect(data.every((m) => m.platform === 'messenger')).toBe(true)
    const stored = ((await (await h.api('/v1/media?status=stored&platform=whatsapp')).json()) as { data: MediaJson[] }).data
    expect(stored.map((m) => m.id)).toEqual(expect.arrayContaining([jpeg.record.id, html.record.id]))
  })
})
