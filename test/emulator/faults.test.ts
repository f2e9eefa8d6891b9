import { randomBytes } from 'node:crypto'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { getJson, useEmulator } from './fixture.js'

const f = useEmulator()
afterEach(() => f.emu.clearFaults())

const lookup = (id: string) => getJson(`${f.emu.url}/v26.0/${id}`, f.auth)

/** Downloads a WhatsApp media (fresh URL), reading the whole body; reports how it ended. */
async function download(id: string, headers: Record<string, string> = {}) {
  const res = await request(f.emu.whatsappUrl(id), { headers: { ...f.auth, ...headers } })
  const chunks: Buffer[] = []
  try {
    for await (const chunk of res.body) chunks.push(chunk as Buffer)
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), error: undefined as (Error & { code?: string }) | undefined }
  } catch (err) {
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), error: err as Error & { code?: string } }
  }
}

describe('lookup faults', () => {
  it('lookupStatus answers that status with a Graph envelope and Retry-After', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults(media.id, { lookupStatus: 429, retryAfterSeconds: 7 })
    const { status, body, headers } = await lookup(media.id)
    expect(status).toBe(429)
    expect(headers.get('retry-after')).toBe('7')
    expect(body.error).toMatchObject({ code: 4, type: 'OAuthException' })
    f.emu.setFaults(media.id, { lookupStatus: 503 })
    expect((await lookup(media.id)).status).toBe(503)
    f.emu.setFaults(media.id, { lookupStatus: 500 })
    expect((await lookup(media.id)).body.error.code).toBe(1)
  })

  it.each([
    [4, 400, undefined],
    [80007, 400, 'whatsapp'],
    [130429, 400, 'whatsapp'],
    [190, 401, undefined],
  ])('graphErrorCode %i answers its envelope with status %i', async (code, status, product) => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults(media.id, { graphErrorCode: code })
    const res = await lookup(media.id)
    expect(res.status).toBe(status)
    expect(res.body.error.code).toBe(code)
    expect(res.body.error.fbtrace_id).toBeTruthy()
    expect(res.body.error.error_data?.messaging_product).toBe(product)
  })

  it('graphErrorCode with lookupStatus uses that status (code 4 as 429)', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults(media.id, { graphErrorCode: 4, lookupStatus: 429 })
    const res = await lookup(media.id)
    expect([res.status, res.body.error.code]).toEqual([429, 4])
  })

  it('wrongHash and wrongSize declare metadata that does not match the bytes', async () => {
    const media = f.emu.addWhatsAppMedia({ bytes: randomBytes(100), mimeType: 'image/jpeg', sha256Encoding: 'hex' })
    f.emu.setFaults(media.id, { wrongHash: true, wrongSize: true })
    const { body } = await lookup(media.id)
    expect(body.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(body.sha256).not.toBe(media.sha256Hex)
    expect(body.file_size).toBe(101)
    const served = await download(media.id)
    expect(served.body.length).toBe(100)
  })

  it('times applies the fault to the first N requests only, per media (503 twice, then OK)', async () => {
    const a = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    const b = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults('*', { lookupStatus: 503, times: 2 })
    const seen = []
    for (let i = 0; i < 3; i++) seen.push((await lookup(a.id)).status)
    seen.push((await lookup(b.id)).status)
    expect(seen).toEqual([503, 503, 200, 503])
  })

  it('a per-id spec wins over "*"', async () => {
    const a = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults('*', { lookupStatus: 500 })
    f.emu.setFaults(a.id, { lookupStatus: 429 })
    expect((await lookup(a.id)).status).toBe(429)
    f.emu.clearFaults()
    expect((await lookup(a.id)).status).toBe(200)
  })

  it('rate faults a seeded, reproducible fraction of requests', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    const run = async () => {
      f.emu.setFaults(media.id, { lookupStatus: 503, rate: 0.3, seed: 42 })
      const statuses = []
      for (let i = 0; i < 60; i++) statuses.push((await lookup(media.id)).status)
      return statuses
    }
    const first = await run()
    const second = await run()
    expect(second).toEqual(first)
    const faulted = first.filter((s) => s === 503).length
    expect(faulted).toBeGreaterThan(5)
    expect(faulted).toBeLessThan(35)
  })
})

describe('download faults', () => {
  it('downloadStatus answers that status (with Retry-After), then times lets it through', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults(media.id, { downloadStatus: 503, retryAfterSeconds: 2, times: 1 })
    const first = await download(media.id)
    expect(first.status).toBe(503)
    expect(first.headers['retry-after']).toBe('2')
    expect((await download(media.id)).status).toBe(200)
  })

  it('expired: the WhatsApp URL answers 404 and the CDN 403', async () => {
    const wa = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    const fb = f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults('*', { expired: true })
    expect((await download(wa.id)).status).toBe(404)
    const res = await fetch(fb.url!)
    expect(res.status).toBe(403)
    expect(await res.text()).toBe('URL signature expired')
  })

  it('truncate sends Content-Length N and closes the connection after half', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 100_000, mimeType: 'video/mp4' })
    f.emu.setFaults(media.id, { truncate: true })
    const res = await download(media.id)
    expect(res.status).toBe(200)
    expect(res.headers['content-length']).toBe('100000')
    expect(res.error?.code).toBe('UND_ERR_SOCKET') // "other side closed": a clean close, not a reset
    expect(res.body.length).toBe(50_000)
    expect(f.emu.stats().byMedia[media.id]?.downloadsCompleted ?? 0).toBe(0)
  })

  it('resetMidBody destroys the socket with a reset mid-body', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 100_000, mimeType: 'video/mp4' })
    f.emu.setFaults(media.id, { resetMidBody: true, atByte: 30_000 })
    const res = await download(media.id)
    expect(res.status).toBe(200)
    expect(res.error?.code).toBe('ECONNRESET')
    expect(res.body.length).toBeLessThanOrEqual(30_000)
  })

  it('stallMs pauses mid-body, then completes', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10_000, mimeType: 'image/jpeg' })
    f.emu.setFaults(media.id, { stallMs: 150 })
    const started = performance.now()
    const res = await download(media.id)
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    expect(res.error).toBeUndefined()
    expect(res.body.length).toBe(10_000)
  })

  it('partialContent answers a plain GET with a well-formed 206 of the head only; a Range request as usual', async () => {
    const bytes = randomBytes(10_000)
    const media = f.emu.addCdnMedia({ platform: 'instagram', bytes, mimeType: 'image/jpeg' })
    f.emu.setFaults(media.id, { partialContent: true, atByte: 4_000 })
    const res = await request(media.url!)
    const body = Buffer.from(await res.body.arrayBuffer())
    expect(res.statusCode).toBe(206)
    expect(res.headers['content-range']).toBe('bytes 0-3999/10000')
    expect(res.headers['content-length']).toBe('4000')
    expect(body.equals(bytes.subarray(0, 4_000))).toBe(true)
    const ranged = await request(media.url!, { headers: { range: 'bytes=5000-5009' } })
    expect(ranged.statusCode).toBe(206)
    expect(ranged.headers['content-range']).toBe('bytes 5000-5009/10000')
    expect(Buffer.from(await ranged.body.arrayBuffer()).equals(bytes.subarray(5_000, 5_010))).toBe(true)
    // WhatsApp's lookaside too, by default half the body.
    const wa = f.emu.addWhatsAppMedia({ size: 1_000, mimeType: 'image/jpeg' })
    f.emu.setFaults(wa.id, { partialContent: true })
    const half = await download(wa.id)
    expect([half.status, half.headers['content-range'], half.body.length]).toEqual([206, 'bytes 0-499/1000', 500])
  })

  it('redirectTo answers 302 to another host', async () => {
    const media = f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults(media.id, { redirectTo: 'http://127.0.0.2:9/elsewhere' })
    const res = await fetch(media.url!, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('http://127.0.0.2:9/elsewhere')
  })

  it('delayMs holds the first byte back', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    f.emu.setFaults(media.id, { delayMs: 120 })
    const started = performance.now()
    expect((await lookup(media.id)).status).toBe(200)
    expect(performance.now() - started).toBeGreaterThanOrEqual(110)
  })

  it('rejects malformed fault specs', () => {
    expect(() => f.emu.setFaults('*', { rate: 2 })).toThrow(/rate/)
    expect(() => f.emu.setFaults('*', { lookupStatus: 42 })).toThrow(/lookupStatus/)
    expect(() => f.emu.setFaults('*', { redirectTo: 'file:///etc/passwd' })).toThrow(/redirectTo/)
  })
})
