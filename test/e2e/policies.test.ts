/**
 * Storage policies over real HTTP against the emulator: `lazy` WhatsApp media are captured on
 * first request (bytes streamed to the client while stored and verified) or by
 * `mediagate capture`; `proxy` media are never stored and stream from Meta on every request.
 * The content endpoint answers the same way under each (Range, ETag once known, 410).
 */
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { EndGate } from '../../src/transfer/end-gate.js'
import { captureCommand } from '../../src/cli/commands/capture.js'
import { loadConfig } from '../../src/config/load-config.js'
import { instagramMessage, messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const DAY = 24 * 60 * 60 * 1000
// A real JPEG header, so the bytes are sniffed as image/jpeg and served inline.
const jpeg = (size: number) => Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(size), Buffer.from('ffd9', 'hex')])
const midOf = (p: { entry: { messaging?: { message?: Record<string, unknown> }[] }[] }) => p.entry[0]!.messaging![0]!.message!.mid as string
const wamidOf = (p: { entry: { changes: { value: { messages?: unknown[] } }[] }[] }) => (p.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id

/** The emulator's clock runs this much ahead of the real one (to expire media ids). */
let clockOffset = 0
let h: Harness

async function whatsapp(bytes: Buffer, options: { declaredSha256?: string } = {}): Promise<{ record: MediaJson; mediaId: string }> {
  const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
  const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: options.declaredSha256 ?? media.sha256 } })
  expect((await h.postWebhook(payload)).status).toBe(200)
  const [record] = await h.mediaOf(wamidOf(payload))
  return { record: record!, mediaId: media.id }
}

async function messaging(platform: 'messenger' | 'instagram', bytes: Buffer): Promise<{ record: MediaJson; mediaId: string }> {
  const media = h.emulator.addCdnMedia({ platform, bytes, mimeType: 'image/jpeg' })
  const payload = (platform === 'messenger' ? messengerMessage : instagramMessage)({ attachments: [{ type: 'image', url: media.url! }] })
  expect((await h.postWebhook(payload)).status).toBe(200)
  const [record] = await h.mediaOf(midOf(payload))
  return { record: record!, mediaId: media.id }
}

const record = async (id: string) => (await (await h.api(`/v1/media/${id}`)).json()) as MediaJson
const downloads = (mediaId: string) => h.emulator.stats().byMedia[mediaId]?.downloadsCompleted ?? 0
const started = (mediaId: string) => h.emulator.stats().byMedia[mediaId]?.downloadsStarted ?? 0

beforeAll(async () => {
  h = await startHarness({
    env: { MEDIAGATE_POLICY_WHATSAPP: 'lazy', MEDIAGATE_POLICY_MESSENGER: 'proxy', MEDIAGATE_POLICY_INSTAGRAM: 'proxy' },
    emulator: { now: () => Date.now() + clockOffset },
  })
})
afterAll(async () => h?.close())
afterEach(() => {
  clockOffset = 0
  h.emulator.clearFaults()
})

describe('configuration', () => {
  it.each(['MESSENGER', 'INSTAGRAM'])('refuses lazy for %s at load, saying why', (platform) => {
    const load = () => loadConfig({ env: { META_APP_SECRET: 's', MEDIAGATE_API_KEY: 'k'.repeat(32), [`MEDIAGATE_POLICY_${platform}`]: 'lazy' } })
    expect(load).toThrow(new RegExp(`MEDIAGATE_POLICY_${platform}: \`lazy\` is WhatsApp-only`))
    expect(load).toThrow(/use eager or proxy/)
  })
  it('accepts every policy for WhatsApp and refuses unknown ones', () => {
    const base = { META_APP_SECRET: 's', MEDIAGATE_API_KEY: 'k'.repeat(32) }
    for (const policy of ['eager', 'lazy', 'proxy'] as const) expect(loadConfig({ env: { ...base, MEDIAGATE_POLICY_WHATSAPP: policy } }).policyWhatsapp).toBe(policy)
    expect(loadConfig({ env: base })).toMatchObject({ policyWhatsapp: 'eager', policyMessenger: 'eager', policyInstagram: 'eager' })
    expect(() => loadConfig({ env: { ...base, MEDIAGATE_POLICY_WHATSAPP: 'sometimes' } })).toThrow(/MEDIAGATE_POLICY_WHATSAPP: must be one of eager, lazy, proxy/)
  })
})

describe('lazy (WhatsApp)', () => {
  it('records the media as remote with its id expiry, and downloads nothing until asked', async () => {
    const { record: r, mediaId } = await whatsapp(jpeg(2000))
    expect(r).toMatchObject({ status: 'remote', policy: 'lazy', sha256: null, next_attempt_at: null })
    const expires = Date.parse(r.source.expires_at!)
    expect(expires - Date.parse(r.received_at)).toBe(7 * DAY)
    // The worker polls every 50 ms: give it time to (wrongly) pick the record up.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await record(r.id)).status).toBe('remote')
    expect(h.emulator.stats().byMedia[mediaId]).toBeUndefined()
  })

  it('streams the first request while storing and verifying; later requests come from the store', async () => {
    const bytes = jpeg(300_000)
    const { record: r, mediaId } = await whatsapp(bytes)
    const first = await h.api(`/v1/media/${r.id}/content`)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toBe('image/jpeg')
    expect(first.headers.get('content-disposition')).toMatch(/^inline; /)
    expect(first.headers.get('content-length')).toBe(String(bytes.length))
    expect(first.headers.get('x-content-type-options')).toBe('nosniff')
    expect(sha(Buffer.from(await first.arrayBuffer()))).toBe(sha(bytes))
    const stored = await record(r.id)
    expect(stored).toMatchObject({ status: 'stored', policy: 'lazy', sha256: sha(bytes), size: bytes.length, sniffed_mime_type: 'image/jpeg' })
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytes)))).toEqual({ key: blobKeyFor(sha(bytes)), size: bytes.length })
    expect(downloads(mediaId)).toBe(1)

    const again = await h.api(`/v1/media/${r.id}/content`, { headers: { range: 'bytes=100-199' } })
    expect(again.status).toBe(206)
    expect(again.headers.get('etag')).toBe(`"${sha(bytes)}"`)
    expect(Buffer.compare(Buffer.from(await again.arrayBuffer()), bytes.subarray(100, 200))).toBe(0)
    const cached = await h.api(`/v1/media/${r.id}/content`, { headers: { 'if-none-match': `"${sha(bytes)}"` } })
    expect(cached.status).toBe(304)
    expect(downloads(mediaId)).toBe(1)
  })

  it('downloads once for concurrent first requests', async () => {
    const bytes = jpeg(200_000)
    const { record: r, mediaId } = await whatsapp(bytes)
    const bodies = await Promise.all([1, 2, 3, 4].map(async () => Buffer.from(await (await h.api(`/v1/media/${r.id}/content`)).arrayBuffer())))
    for (const body of bodies) expect(sha(body)).toBe(sha(bytes))
    expect(started(mediaId)).toBe(1)
    expect((await record(r.id)).status).toBe('stored')
  })

  it('finishes storing when the first client goes away mid-body', async () => {
    const bytes = jpeg(3_000_000)
    const { record: r } = await whatsapp(bytes)
    const controller = new AbortController()
    const res = await h.api(`/v1/media/${r.id}/content`, { signal: controller.signal })
    const reader = res.body!.getReader()
    await reader.read()
    controller.abort()
    let status = 'remote'
    for (let i = 0; i < 200 && status === 'remote'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      status = (await record(r.id)).status
    }
    expect(await record(r.id)).toMatchObject({ status: 'stored', sha256: sha(bytes) })
  })

  it('answers a first Range request after capturing the whole media', async () => {
    const bytes = jpeg(50_000)
    const { record: r } = await whatsapp(bytes)
    const res = await h.api(`/v1/media/${r.id}/content`, { headers: { range: 'bytes=-10' } })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes ${bytes.length - 10}-${bytes.length - 1}/${bytes.length}`)
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), bytes.subarray(-10))).toBe(0)
    expect((await record(r.id)).status).toBe('stored')
  })

  it('cuts the response short and stores nothing when the bytes do not match what Meta declared', async () => {
    const bytes = jpeg(100_000)
    const { record: r, mediaId } = await whatsapp(bytes, { declaredSha256: createHash('sha256').update('other bytes').digest('base64') })
    h.emulator.setFaults(mediaId, { wrongHash: true })
    const res = await h.api(`/v1/media/${r.id}/content`)
    expect(res.status).toBe(200)
    await expect(res.arrayBuffer()).rejects.toThrow()
    expect((await record(r.id)).status).toBe('remote')
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytes)))).toBeUndefined()
    // Meta fixed: the next request captures it.
    h.emulator.clearFaults()
  })

  it('answers 410 source_expired once the media id has expired at Meta', async () => {
    const { record: r } = await whatsapp(jpeg(1000))
    clockOffset = 8 * DAY
    const res = await h.api(`/v1/media/${r.id}/content`)
    expect(res.status).toBe(410)
    expect(await res.json()).toMatchObject({ error: { code: 'source_expired' } })
    expect((await record(r.id)).status).toBe('remote')
  })

  it('`mediagate capture --due-within` stores the lazy media whose id expires in the window', async () => {
    const bytes = jpeg(5000)
    const { record: r, mediaId } = await whatsapp(bytes)
    const run = async (...args: string[]) => {
      let out = ''
      const flags = ['--data-dir', h.dataDir, '--meta-graph-url', h.emulator.url, '--whatsapp-access-token', h.emulator.accessToken, '--allowed-hosts', '127.0.0.1']
      await captureCommand({ write: (s: string) => (out += s) }).parseAsync([...args, ...flags], { from: 'user' })
      return out
    }
    expect(await run('--due-within', '1h')).toMatch(/^captured 0 lazy media$/m)
    expect((await record(r.id)).status).toBe('remote')
    const out = await run('--due-within', '8d')
    expect(out).toContain(`stored ${r.id} (${bytes.length} bytes, sha256 ${sha(bytes)})`)
    expect((await record(r.id)).status).toBe('stored')
    const before = downloads(mediaId)
    const res = await h.api(`/v1/media/${r.id}/content`)
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(bytes))
    expect(downloads(mediaId)).toBe(before)
    await expect(run('--due-within', 'soon')).rejects.toMatchObject({ code: 'bad_request' })
  })
})

describe('proxy (Messenger, Instagram)', () => {
  it('never stores: every request streams from Meta, and the record learns its hash for ETag and 304', async () => {
    const bytes = jpeg(120_000)
    const { record: r, mediaId } = await messaging('messenger', bytes)
    expect(r).toMatchObject({ status: 'remote', policy: 'proxy' })
    const first = await h.api(`/v1/media/${r.id}/content`)
    expect(first.status).toBe(200)
    expect(first.headers.get('etag')).toBeNull()
    expect(first.headers.get('content-disposition')).toMatch(/^inline; /)
    expect(sha(Buffer.from(await first.arrayBuffer()))).toBe(sha(bytes))
    expect(downloads(mediaId)).toBe(1)

    const learned = await record(r.id)
    expect(learned).toMatchObject({ status: 'remote', sha256: sha(bytes), size: bytes.length, sniffed_mime_type: 'image/jpeg' })
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytes)))).toBeUndefined()

    const second = await h.api(`/v1/media/${r.id}/content`)
    expect(second.headers.get('etag')).toBe(`"${sha(bytes)}"`)
    expect(sha(Buffer.from(await second.arrayBuffer()))).toBe(sha(bytes))
    expect(downloads(mediaId)).toBe(2)
    const notModified = await h.api(`/v1/media/${r.id}/content`, { headers: { 'if-none-match': `"${sha(bytes)}"` } })
    expect(notModified.status).toBe(304)
    expect(h.emulator.stats().byMedia[mediaId]!.downloadsStarted).toBe(2)
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytes)))).toBeUndefined()
  })

  it('passes Range through to Meta, before and after the size is known', async () => {
    const bytes = jpeg(80_000)
    const { record: r, mediaId } = await messaging('instagram', bytes)
    const slice = await h.api(`/v1/media/${r.id}/content`, { headers: { range: 'bytes=1000-1999' } })
    expect(slice.status).toBe(206)
    expect(slice.headers.get('content-range')).toBe(`bytes 1000-1999/${bytes.length}`)
    expect(slice.headers.get('content-length')).toBe('1000')
    expect(Buffer.compare(Buffer.from(await slice.arrayBuffer()), bytes.subarray(1000, 2000))).toBe(0)
    expect(h.emulator.stats().byMedia[mediaId]!.bytesSent).toBe(1000)
    // A suffix range needs the size: the whole body until a full pass taught it.
    const whole = await h.api(`/v1/media/${r.id}/content`, { headers: { range: 'bytes=-100' } })
    expect(whole.status).toBe(200)
    expect(sha(Buffer.from(await whole.arrayBuffer()))).toBe(sha(bytes))
    const tail = await h.api(`/v1/media/${r.id}/content`, { headers: { range: 'bytes=-100' } })
    expect(tail.status).toBe(206)
    expect(Buffer.compare(Buffer.from(await tail.arrayBuffer()), bytes.subarray(-100))).toBe(0)
    const beyond = await h.api(`/v1/media/${r.id}/content`, { headers: { range: `bytes=${bytes.length + 5}-` } })
    expect(beyond.status).toBe(416)
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bytes.length}`)
  })

  it('answers 410 source_expired when the CDN URL is gone', async () => {
    const { record: r, mediaId } = await messaging('instagram', jpeg(1000))
    h.emulator.setFaults(mediaId, { expired: true })
    const res = await h.api(`/v1/media/${r.id}/content`)
    expect(res.status).toBe(410)
    expect(await res.json()).toMatchObject({ error: { code: 'source_expired' } })
  })
})

describe('proxy (WhatsApp)', () => {
  let p: Harness
  beforeAll(async () => {
    p = await startHarness({ env: { MEDIAGATE_POLICY_WHATSAPP: 'proxy' } })
  })
  afterAll(async () => p?.close())

  it('downloads from Meta for every request (the URL resolved once, reused while it lives) and stores nothing', async () => {
    const bytes = jpeg(40_000)
    const media = p.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    await p.postWebhook(payload)
    const [r] = await p.mediaOf(wamidOf(payload))
    expect(r).toMatchObject({ status: 'remote', policy: 'proxy' })
    for (let i = 1; i <= 2; i++) {
      const res = await p.api(`/v1/media/${r!.id}/content`)
      expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(bytes))
      // Issue 12: the media id was looked up for every request; the URL now serves both (whatsapp-url-cache.test.ts).
      expect(p.emulator.stats().byMedia[media.id]).toMatchObject({ lookups: 1, downloadsCompleted: i })
    }
    const slice = await p.api(`/v1/media/${r!.id}/content`, { headers: { range: 'bytes=0-99' } })
    expect(slice.status).toBe(206)
    expect(Buffer.compare(Buffer.from(await slice.arrayBuffer()), bytes.subarray(0, 100))).toBe(0)
    expect(await p.gateway.blobs.stat(blobKeyFor(sha(bytes)))).toBeUndefined()
    expect((await (await p.api(`/v1/media/${r!.id}`)).json()) as MediaJson).toMatchObject({ status: 'remote', sha256: sha(bytes) })
  })
})

describe('the streams lazy serving is built on', () => {
  const drain = async (stream: AsyncIterable<Buffer>) => {
    const parts: Buffer[] = []
    for await (const chunk of stream) parts.push(chunk)
    return Buffer.concat(parts)
  }

  it('EndGate holds the last chunk until the verdict, and withholds it on a failed one', async () => {
    const chunks = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]
    const passed = await drain(Readable.from(chunks).pipe(new EndGate(async () => undefined)))
    expect(passed.toString()).toBe('abc')
    const failing = Readable.from(chunks).pipe(new EndGate(async () => Promise.reject(new Error('integrity'))))
    const seen: string[] = []
    await expect(
      (async () => {
        for await (const chunk of failing) seen.push(String(chunk))
      })(),
    ).rejects.toThrow('integrity')
    expect(seen.join('')).toBe('ab')
  })
})
