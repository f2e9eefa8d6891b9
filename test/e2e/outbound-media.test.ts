/**
 * Outbound media (issue 14): `POST /v1/media` stores what the app posts through the transfer
 * pipeline; `POST /v1/media/{id}/handles` uploads it to the emulated Meta once per account and
 * hands the cached handle out again; Meta's limits are checked first; Graph errors are mapped.
 */
import { createHash, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.js'

const NUMBER = '111111111111111'
const PAGE = '333333333333'
const IG = '444444444444'
const NO_TOKEN_PAGE = '555555555555'
const PAGE_TOKEN = 'page-token-0123456789abcdef'
const IG_TOKEN = 'ig-token-0123456789abcdef'

let h: Harness
let dir: string
let png: Buffer
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-outbound-'))
  const file = path.join(dir, 'mediagate.config.json')
  await writeFile(file, JSON.stringify({ pages: { [PAGE]: { access_token: PAGE_TOKEN }, [IG]: { access_token: IG_TOKEN } } }))
  h = await startHarness({ emulator: { extraAccessTokens: { page: PAGE_TOKEN, ig: IG_TOKEN } }, env: { MEDIAGATE_CONFIG_FILE: file, MEDIAGATE_MAX_BYTES: String(20 * 1024 * 1024), MEDIAGATE_DERIVE: '0' } })
  png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer()
})
afterAll(async () => {
  await h?.close()
  await rm(dir, { recursive: true, force: true })
})
beforeEach(() => h.emulator.clearFaults())

async function post(bytes: Buffer, type: string, query = ''): Promise<Response> {
  return h.api(`/v1/media${query}`, { method: 'POST', body: bytes, headers: { 'content-type': type } })
}

async function stored(bytes: Buffer, type: string, query = ''): Promise<{ id: string; sha256: string }> {
  const res = await post(bytes, type, query)
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; sha256: string }
}

function handles(id: string, body: object): Promise<Response> {
  return h.api(`/v1/media/${id}/handles`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('POST /v1/media', () => {
  it('stores the raw body as outbound media, sniffed and hashed, and serves it back', async () => {
    const res = await post(png, 'application/octet-stream', '?filename=red.png')
    expect(res.status).toBe(201)
    const record = (await res.json()) as Record<string, unknown>
    expect(record).toMatchObject({ direction: 'outbound', status: 'stored', sha256: sha(png), size: png.length, mime_type: 'image/png', kind: 'image' })
    const content = await h.api(`/v1/media/${String(record.id)}/content`)
    expect(content.status).toBe(200)
    expect(Buffer.from(await content.arrayBuffer())).toEqual(png)
  })

  it('takes the file field of a multipart/form-data body, streamed, with its own type and name', async () => {
    const bytes = randomBytes(300_000)
    const form = new FormData()
    form.set('note', 'ignored')
    form.set('file', new Blob([bytes], { type: 'application/pdf' }), 'report.pdf')
    const res = await h.api('/v1/media', { method: 'POST', body: form, signal: AbortSignal.timeout(5000) })
    expect(res.status).toBe(201)
    const record = (await res.json()) as Record<string, unknown>
    expect(record).toMatchObject({ direction: 'outbound', status: 'stored', sha256: sha(bytes), size: bytes.length, mime_type: 'application/pdf', filename: 'report.pdf' })
    const none = new FormData()
    none.set('other', 'x')
    const bad = await h.api('/v1/media', { method: 'POST', body: none })
    expect(bad.status).toBe(400)
  })

  it('posting the same bytes twice stores one blob', async () => {
    const bytes = randomBytes(5000)
    const a = await stored(bytes, 'application/pdf')
    const b = await stored(bytes, 'application/pdf')
    expect(a.id).not.toBe(b.id)
    const [ra, rb] = await Promise.all([h.gateway.catalog.get(a.id), h.gateway.catalog.get(b.id)])
    expect(ra!.blobKey).toBe(rb!.blobKey)
    expect(ra!.sha256).toBe(sha(bytes))
  })

  it('answers 413 over MEDIAGATE_MAX_BYTES, announced or streamed, and leaves only a tombstone', async () => {
    const res = await post(randomBytes(21 * 1024 * 1024), 'application/pdf')
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('too_large')
    // Chunked, without a Content-Length: the cap of the blob store's put stops it.
    const chunk = randomBytes(1024 * 1024)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 21) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const streamed = await h.api('/v1/media', { method: 'POST', body, headers: { 'content-type': 'application/pdf' }, duplex: 'half' } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('too_large')
    const remote = await h.gateway.catalog.list({ status: 'remote' }, { limit: 10 })
    expect(remote.data).toEqual([])
    const deleted = await h.gateway.catalog.list({ status: 'deleted' }, { limit: 10 })
    expect(deleted.data.some((m) => m.direction === 'outbound')).toBe(true)
  })
})

describe('POST /v1/media/{id}/handles', () => {
  it('WhatsApp: concurrent requests make exactly one upload; later ones reuse the handle', async () => {
    const media = await stored(png, 'image/png')
    const before = h.emulator.stats().uploads
    const answers = await Promise.all(Array.from({ length: 6 }, () => handles(media.id, { platform: 'whatsapp', account_id: NUMBER })))
    const bodies = (await Promise.all(answers.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })))).map((a) => {
      expect(a.status).toBe(200)
      return a.body
    })
    expect(h.emulator.stats().uploads).toBe(before + 1)
    expect(new Set(bodies.map((b) => b.handle)).size).toBe(1)
    expect(bodies.filter((b) => b.reused === false)).toHaveLength(1)
    expect(bodies[0]).toMatchObject({ platform: 'whatsapp', account_id: NUMBER, converted: false, mime_type: 'image/png', size: png.length, sha256: sha(png) })
    const expires = new Date(String(bodies[0]!.expires_at)).getTime()
    expect(expires - Date.now()).toBeGreaterThan(29 * 24 * 3600_000)
    expect(expires - Date.now()).toBeLessThanOrEqual(30 * 24 * 3600_000)
    // Meta resolves the uploaded id to the same bytes.
    const lookup = await fetch(`${h.emulator.url}/v26.0/${String(bodies[0]!.handle)}`, { headers: { authorization: `Bearer ${h.emulator.accessToken}` } })
    expect(((await lookup.json()) as { sha256: string }).sha256).toBe(sha(png))
    const again = (await (await handles(media.id, { platform: 'whatsapp', account_id: NUMBER })).json()) as Record<string, unknown>
    expect(again).toMatchObject({ handle: bodies[0]!.handle, reused: true })
    expect(h.emulator.stats().uploads).toBe(before + 1)
    const list = (await (await h.api(`/v1/media/${media.id}/handles`)).json()) as { data: Record<string, unknown>[] }
    expect(list.data).toEqual([expect.objectContaining({ platform: 'whatsapp', account_id: NUMBER, handle: bodies[0]!.handle })])
  })

  it('Messenger and Instagram: reusable attachment ids with the page tokens, 90 days', async () => {
    const media = await stored(randomBytes(3000), 'application/pdf')
    const before = h.emulator.stats().uploadsByAccount
    const m = (await (await handles(media.id, { platform: 'messenger', account_id: PAGE })).json()) as Record<string, unknown>
    const i = (await (await handles(media.id, { platform: 'instagram', account_id: IG })).json()) as Record<string, unknown>
    expect(m).toMatchObject({ platform: 'messenger', reused: false, mime_type: 'application/pdf' })
    expect(i).toMatchObject({ platform: 'instagram', reused: false })
    expect(m.handle).not.toBe(i.handle)
    expect(new Date(String(m.expires_at)).getTime() - Date.now()).toBeGreaterThan(89 * 24 * 3600_000)
    const after = h.emulator.stats().uploadsByAccount
    expect((after[`messenger:${PAGE}`] ?? 0) - (before[`messenger:${PAGE}`] ?? 0)).toBe(1)
    expect((after[`instagram:${IG}`] ?? 0) - (before[`instagram:${IG}`] ?? 0)).toBe(1)
    expect(await handles(media.id, { platform: 'messenger', account_id: PAGE }).then((r) => r.json())).toMatchObject({ reused: true, handle: m.handle })
  })

  it('no token for the account: 422 no_token, nothing uploaded', async () => {
    const media = await stored(png, 'image/png')
    const before = h.emulator.stats().uploads
    const res = await handles(media.id, { platform: 'messenger', account_id: NO_TOKEN_PAGE })
    expect(res.status).toBe(422)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_token')
    expect(h.emulator.stats().uploads).toBe(before)
  })

  it("checks Meta's limits before uploading: what cannot be converted answers 422 naming the limit", async () => {
    const before = h.emulator.stats().uploads
    const audio = await stored(randomBytes(17 * 1024 * 1024), 'audio/mpeg')
    const res = await handles(audio.id, { platform: 'whatsapp', account_id: NUMBER })
    expect(res.status).toBe(422)
    const error = ((await res.json()) as { error: { code: string; message: string } }).error
    expect(error.code).toBe('too_large_for_platform')
    expect(error.message).toContain('16 MB')
    expect((await handles(audio.id, { platform: 'messenger', account_id: PAGE })).status).toBe(200)
    const zip = await stored(Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(2000)]), 'application/zip')
    const z = await handles(zip.id, { platform: 'whatsapp', account_id: NUMBER })
    expect(z.status).toBe(422)
    expect(((await z.json()) as { error: { code: string } }).error.code).toBe('unsupported_media')
    expect(h.emulator.stats().uploads).toBe(before + 1)
  })

  it('converts images WhatsApp does not take (too large, WebP) to JPEG within the limit, once per media', async () => {
    // Noise does not compress: a PNG over WhatsApp's 5 MB and under Messenger's 8 MB.
    const noise = await sharp(randomBytes(1400 * 1400 * 3), { raw: { width: 1400, height: 1400, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer()
    expect(noise.length).toBeGreaterThan(5 * 1024 * 1024)
    const big = await stored(noise, 'image/png')
    const wa = (await (await handles(big.id, { platform: 'whatsapp', account_id: NUMBER })).json()) as Record<string, unknown>
    expect(wa).toMatchObject({ converted: true, reused: false, mime_type: 'image/jpeg' })
    expect(Number(wa.size)).toBeLessThanOrEqual(5 * 1024 * 1024)
    expect(wa.sha256).not.toBe(sha(noise))
    // Messenger takes the PNG as it is.
    expect(await (await handles(big.id, { platform: 'messenger', account_id: PAGE })).json()).toMatchObject({ converted: false, mime_type: 'image/png', sha256: sha(noise) })
    // Another number: the stored conversion is reused, not made again.
    const other = (await (await handles(big.id, { platform: 'whatsapp', account_id: '222222222222222' })).json()) as Record<string, unknown>
    expect(other).toMatchObject({ converted: true, reused: false, sha256: wa.sha256 })
    const derived = await h.gateway.catalog.derivativesOf(big.id)
    expect(derived.filter((d) => d.name.startsWith('send-'))).toEqual([expect.objectContaining({ name: 'send-jpeg-5242880', mimeType: 'image/jpeg', size: Number(wa.size) })])
    const webp = await stored(await sharp(png).webp().toBuffer(), 'image/webp')
    const w = (await (await handles(webp.id, { platform: 'whatsapp', account_id: NUMBER })).json()) as Record<string, unknown>
    expect(w).toMatchObject({ converted: true, mime_type: 'image/jpeg' })
    const lookup = await fetch(`${h.emulator.url}/v26.0/${String(w.handle)}`, { headers: { authorization: `Bearer ${h.emulator.accessToken}` } })
    expect(await lookup.json()).toMatchObject({ mime_type: 'image/jpeg', sha256: w.sha256 })
  })

  it('voice: true makes a mono OGG/Opus voice note with ffmpeg, which WhatsApp accepts', async () => {
    const dir2 = await mkdtemp(path.join(tmpdir(), 'mediagate-voice-'))
    const wav = path.join(dir2, 'tone.wav')
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-ac', '2', '-y', wav])
    const media = await stored(await readFile(wav), 'audio/wav')
    await rm(dir2, { recursive: true, force: true })
    // As it is, WAV is not a WhatsApp audio type.
    expect((await handles(media.id, { platform: 'whatsapp', account_id: NUMBER })).status).toBe(422)
    const res = await handles(media.id, { platform: 'whatsapp', account_id: NUMBER, voice: true })
    expect(res.status).toBe(200)
    const voice = (await res.json()) as Record<string, unknown>
    expect(voice).toMatchObject({ converted: true, mime_type: 'audio/ogg', reused: false })
    const derived = (await h.gateway.catalog.derivativesOf(media.id)).find((d) => d.name.startsWith('send-voice'))!
    const bytes = Buffer.from(await (await h.api(`/v1/media/${media.id}/content`)).arrayBuffer())
    expect(bytes.subarray(0, 4).toString()).toBe('RIFF')
    const chunks: Buffer[] = []
    for await (const chunk of await h.gateway.blobs.read(derived.blobKey)) chunks.push(chunk as Buffer)
    const ogg = Buffer.concat(chunks)
    expect(ogg.subarray(0, 4).toString()).toBe('OggS')
    expect(ogg.includes('OpusHead')).toBe(true)
    // Mono: the channel count is byte 9 of the OpusHead packet.
    expect(ogg[ogg.indexOf('OpusHead') + 9]).toBe(1)
    expect(await (await handles(media.id, { platform: 'whatsapp', account_id: NUMBER, voice: true })).json()).toMatchObject({ reused: true, converted: true, handle: voice.handle })
  })

  it('maps Graph errors (131053 → 502 meta_rejected with Meta’s message), caches nothing, and retries transient failures', async () => {
    const media = await stored(randomBytes(4000), 'application/pdf')
    h.emulator.setFaults(NUMBER, { uploadGraphErrorCode: 131053, times: 1 })
    const res = await handles(media.id, { platform: 'whatsapp', account_id: NUMBER })
    expect(res.status).toBe(502)
    const error = ((await res.json()) as { error: { code: string; message: string } }).error
    expect(error.code).toBe('meta_rejected')
    expect(error.message).toContain('131053')
    expect(error.message).toContain('Media upload error')
    expect((await (await h.api(`/v1/media/${media.id}/handles`)).json()) as unknown).toEqual({ data: [] })
    // Two 503s, then success: one request, answered after its retries.
    h.emulator.setFaults(NUMBER, { uploadStatus: 503, times: 2 })
    const ok = await handles(media.id, { platform: 'whatsapp', account_id: NUMBER })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ reused: false })
  })

  it('erasing the media forgets its handles and deletes its WhatsApp upload at Meta (a task)', async () => {
    const bytes = randomBytes(3000)
    const media = await stored(bytes, 'application/pdf')
    const wa = (await (await handles(media.id, { platform: 'whatsapp', account_id: NUMBER })).json()) as { handle: string }
    await handles(media.id, { platform: 'messenger', account_id: PAGE })
    const lookup = () => fetch(`${h.emulator.url}/v26.0/${wa.handle}`, { headers: { authorization: `Bearer ${h.emulator.accessToken}` } })
    expect((await lookup()).status).toBe(200)
    expect((await h.api(`/v1/media/${media.id}`, { method: 'DELETE' })).status).toBe(200)
    expect(await (await h.api(`/v1/media/${media.id}/handles`)).json()).toEqual({ data: [] })
    let status = 200
    for (let i = 0; i < 400 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 50))
      status = (await lookup()).status
    }
    expect(status).toBe(400)
    expect(await h.gateway.catalog.metaDeletionsOf(media.id)).toEqual([])
  })

  it('refuses media that is not stored, and bad requests', async () => {
    expect((await handles('med_00000000000000000000000000', { platform: 'whatsapp', account_id: NUMBER })).status).toBe(404)
    const media = await stored(png, 'image/png')
    expect((await handles(media.id, { platform: 'telegram', account_id: NUMBER })).status).toBe(400)
    expect((await handles(media.id, { platform: 'whatsapp', account_id: 'abc' })).status).toBe(400)
  })
})
