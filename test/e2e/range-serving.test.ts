/**
 * Ranges of content larger than what is read into one buffer (SMALL_CONTENT_BYTES), over real
 * HTTP: a small Range of it is one positioned read on a reused descriptor, a large one streams;
 * both answer the exact bytes with 206, and the rules around them (416, If-Range, several
 * ranges, conditional requests, auth, erased media, a blob gone from under its record) hold.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readdir, unlink } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SMALL_CONTENT_BYTES } from '../../src/serve/content-route.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const SIZE = 1024 * 1024 + 17
let h: Harness

async function blobFile(sha256: string): Promise<string> {
  const entries = await readdir(h.dataDir, { recursive: true, withFileTypes: true })
  const hit = entries.find((e) => e.isFile() && e.name === sha256)
  if (!hit) throw new Error(`no blob file ${sha256}`)
  return path.join(hit.parentPath, hit.name)
}

const content = (id: string, headers: Record<string, string> = {}) => h.api(`/v1/media/${id}/content`, { headers })
const body = async (res: Response) => Buffer.from(await res.arrayBuffer())

beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => h?.close())

describe('a Range of large content', () => {
  let bytes: Buffer
  let media: MediaJson
  let etag: string
  beforeAll(async () => {
    bytes = randomBytes(SIZE)
    media = await h.storedWhatsApp(bytes, { type: 'video', mimeType: 'video/mp4' })
    etag = `"${createHash('sha256').update(bytes).digest('hex')}"`
    expect(SIZE).toBeGreaterThan(SMALL_CONTENT_BYTES)
  })

  it('answers small and large ranges, anywhere in the blob, with 206 and the exact bytes', async () => {
    for (const [range, start, end] of [
      ['bytes=300000-365535', 300_000, 365_535], // 64 KiB in the middle: one read
      [`bytes=0-${SMALL_CONTENT_BYTES - 1}`, 0, SMALL_CONTENT_BYTES - 1], // exactly the buffered limit
      [`bytes=1000-${1000 + SMALL_CONTENT_BYTES}`, 1000, 1000 + SMALL_CONTENT_BYTES], // one byte over: streamed
      ['bytes=5-700004', 5, 700_004],
      ['bytes=-1000', SIZE - 1000, SIZE - 1],
      [`bytes=${SIZE - 10}-`, SIZE - 10, SIZE - 1],
      [`bytes=${SIZE - 3}-${SIZE + 5000}`, SIZE - 3, SIZE - 1], // an end past the size is clamped
      ['bytes=0-', 0, SIZE - 1],
    ] as const) {
      const res = await content(media.id, { range })
      expect(res.status, range).toBe(206)
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${SIZE}`)
      expect(res.headers.get('content-length')).toBe(String(end - start + 1))
      expect(res.headers.get('etag')).toBe(etag)
      expect(res.headers.get('accept-ranges')).toBe('bytes')
      expect((await body(res)).equals(bytes.subarray(start, end + 1)), range).toBe(true)
    }
  })

  it('answers a range past the end with 416 and the size', async () => {
    const res = await content(media.id, { range: `bytes=${SIZE}-` })
    expect(res.status).toBe(416)
    expect(res.headers.get('content-range')).toBe(`bytes */${SIZE}`)
    expect(await res.json()).toMatchObject({ error: { code: 'bad_request' } })
  })

  it('answers several ranges, malformed ones and other units with the whole content', async () => {
    for (const range of ['bytes=0-9,500000-500009', 'bytes=abc', 'items=0-9']) {
      const res = await content(media.id, { range })
      expect(res.status, range).toBe(200)
      expect(res.headers.get('content-length')).toBe(String(SIZE))
      expect((await body(res)).equals(bytes)).toBe(true)
    }
  })

  it('honours If-Range and If-None-Match', async () => {
    const same = await content(media.id, { range: 'bytes=10-19', 'if-range': etag })
    expect(same.status).toBe(206)
    expect((await body(same)).equals(bytes.subarray(10, 20))).toBe(true)
    const changed = await content(media.id, { range: 'bytes=10-19', 'if-range': '"another-version"' })
    expect(changed.status).toBe(200)
    expect((await body(changed)).equals(bytes)).toBe(true)
    const cached = await content(media.id, { range: 'bytes=10-19', 'if-none-match': etag })
    expect(cached.status).toBe(304)
    expect((await body(cached)).length).toBe(0)
  })

  it('refuses a range without the API key', async () => {
    const res = await fetch(`${h.gateway.url}/v1/media/${media.id}/content`, { headers: { range: 'bytes=0-9' } })
    expect(res.status).toBe(401)
    expect((await body(res)).includes(bytes.subarray(0, 10))).toBe(false)
  })
})

describe('ranges of media that lost their bytes', () => {
  it('never serves an erased media, even right after its bytes were read through a kept descriptor', async () => {
    const bytes = randomBytes(SIZE)
    const media = await h.storedWhatsApp(bytes, { type: 'video', mimeType: 'video/mp4' })
    expect((await content(media.id, { range: 'bytes=0-65535' })).status).toBe(206)
    expect((await h.api(`/v1/media/${media.id}`, { method: 'DELETE' })).status).toBe(200)
    for (const range of ['bytes=0-65535', 'bytes=0-600000']) {
      const res = await content(media.id, { range })
      expect(res.status).toBe(410)
      expect(await res.json()).toMatchObject({ error: { code: 'deleted' } })
    }
  })

  it('answers an error, never part of the media, when the blob is gone from under its record', async () => {
    const bytes = randomBytes(SIZE)
    const media = await h.storedWhatsApp(bytes, { type: 'video', mimeType: 'video/mp4' })
    await unlink(await blobFile(media.sha256!))
    for (const range of ['bytes=0-65535', 'bytes=0-600000']) {
      const res = await content(media.id, { range })
      expect(res.status, range).toBe(404)
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } })
    }
  })
})
