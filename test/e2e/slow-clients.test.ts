/**
 * Issue 12: a client that stops reading must not block a media for everyone, nor pin a download
 * (and the token it carries) to Meta. Over real sockets against the emulator: a raw client that
 * reads the headers of a lazy first response and then stops; the overall download deadline for
 * eager, lazy and proxy transfers; and the HTTP server's own timeouts.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { rawExchange, rawGet, readBody } from '../helpers/raw-client.js'
import { until } from '../helpers/until.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const MiB = 1024 * 1024
// A JPEG header, so the bytes are sniffed as an image.
const jpeg = (size: number) => Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(size), Buffer.from('ffd9', 'hex')])
const auth = { authorization: `Bearer ${API_KEY}` }

async function whatsapp(h: Harness, bytes: Buffer): Promise<{ record: MediaJson; mediaId: string }> {
  const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
  const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
  expect((await h.postWebhook(payload)).status).toBe(200)
  const [record] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
  return { record: record!, mediaId: media.id }
}

const record = async (h: Harness, id: string) => (await (await h.api(`/v1/media/${id}`)).json()) as MediaJson

/** `promise`, or a rejection naming `what` after `ms`: a test that would hang fails instead. */
function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

describe('lazy serving with a client that stops reading', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ env: { MEDIAGATE_POLICY_WHATSAPP: 'lazy' } })
  })
  afterAll(async () => h?.close())

  it('captures at the store’s pace; the next client gets the whole media from the store; the stalled one gets every byte once it reads again', async () => {
    // Far more than loopback's socket buffers and the first client's allowed lag together.
    const bytes = jpeg(32 * MiB)
    const { record: r, mediaId } = await whatsapp(h, bytes)
    const stalled = await rawGet(h.gateway.url!, `/v1/media/${r.id}/content`, auth)
    expect(stalled.status).toBe(200)
    expect(Number(stalled.headers['content-length'])).toBe(bytes.length)

    // Before the fix the tee waited for the stalled client: this request never got an answer.
    const second = await within('the second client’s answer', 20_000, h.api(`/v1/media/${r.id}/content`))
    expect(second.status).toBe(200)
    const body = Buffer.from(await within('the second client’s body', 20_000, second.arrayBuffer()))
    expect(body.length).toBe(bytes.length)
    expect(sha(body)).toBe(sha(bytes))
    expect(await record(h, r.id)).toMatchObject({ status: 'stored', sha256: sha(bytes), size: bytes.length })
    // One download, run to its end: the connection to Meta was released, not held by the stalled client.
    expect(h.emulator.stats().byMedia[mediaId]).toMatchObject({ downloadsStarted: 1, downloadsCompleted: 1 })

    // The stalled client was never cut off: what it missed comes from the stored blob.
    const rest = await readBody(stalled, bytes.length, 20_000)
    expect(rest.complete).toBe(true)
    expect(sha(rest.body.subarray(0, bytes.length))).toBe(sha(bytes))
  })

  it('serves a first client that reads slower than Meta sends the whole verified media', async () => {
    const bytes = jpeg(12 * MiB)
    const { record: r, mediaId } = await whatsapp(h, bytes)
    const slow = await rawGet(h.gateway.url!, `/v1/media/${r.id}/content`, auth)
    const read = await readBody(slow, bytes.length, 30_000, { pauseEveryBytes: MiB, pauseMs: 300 })
    expect(read.complete).toBe(true)
    expect(sha(read.body.subarray(0, bytes.length))).toBe(sha(bytes))
    expect(await record(h, r.id)).toMatchObject({ status: 'stored', sha256: sha(bytes) })
    expect(h.emulator.stats().byMedia[mediaId]).toMatchObject({ downloadsStarted: 1, downloadsCompleted: 1 })
  })
})

describe('the overall download deadline (MEDIAGATE_DOWNLOAD_DEADLINE_MS)', () => {
  let h: Harness
  beforeAll(async () => {
    // The stall timeout is far longer than the deadline: only the deadline can end these downloads.
    h = await startHarness({ env: { MEDIAGATE_DOWNLOAD_DEADLINE_MS: '1000', MEDIAGATE_DOWNLOAD_TIMEOUT_MS: '20000' } })
  })
  afterAll(async () => h?.close())

  it('aborts an eager capture past it with a retryable network error, and the media goes back to retry', async () => {
    const bytes = jpeg(200_000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    // The body stops halfway for 5 s on the first two downloads, well within the 20 s stall timeout.
    h.emulator.setFaults(media.id, { stallMs: 5_000, times: 2 })
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    expect((await h.postWebhook(payload)).status).toBe(200)
    const [m] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
    const retried = await until('the media back to retry', async () => {
      const current = await record(h, m!.id)
      return current.status === 'pending' && current.error ? current : undefined
    }, { timeoutMs: 10_000, intervalMs: 25 })
    expect(retried.error).toMatchObject({ code: 'network', vendor_code: 'deadline' })
    expect(retried.error!.message).toContain('MEDIAGATE_DOWNLOAD_DEADLINE_MS')
    const stored = await until('the media stored', async () => {
      const current = await record(h, m!.id)
      return current.status === 'stored' ? current : undefined
    }, { timeoutMs: 15_000, intervalMs: 25 })
    expect(stored.sha256).toBe(sha(bytes))
    expect(h.emulator.stats().byMedia[media.id]).toMatchObject({ downloadsStarted: 3, downloadsCompleted: 1 })
  })

  it('cuts a proxied and a lazy response short past it, never as a complete body, and releases the download', async () => {
    for (const policy of ['proxy', 'lazy'] as const) {
      const p = await startHarness({ env: { MEDIAGATE_POLICY_WHATSAPP: policy, MEDIAGATE_DOWNLOAD_DEADLINE_MS: '1000', MEDIAGATE_DOWNLOAD_TIMEOUT_MS: '20000' } })
      try {
        const bytes = jpeg(300_000)
        const { record: r, mediaId } = await whatsapp(p, bytes)
        p.emulator.setFaults(mediaId, { stallMs: 5_000 })
        const res = await p.api(`/v1/media/${r.id}/content`)
        expect(res.status).toBe(200)
        await expect(within(`${policy}: the body`, 4_000, res.arrayBuffer())).rejects.toThrow()
        // The emulator counts a download response when its connection closes.
        await until(`${policy}: the emulator's connection closed`, () => p.emulator.stats().requests['whatsapp.download']?.['200'], { timeoutMs: 4_000, intervalMs: 25 })
        expect(p.emulator.stats().byMedia[mediaId]!.downloadsCompleted).toBe(0)
        expect((await record(p, r.id)).status).toBe('remote')
      } finally {
        await p.close()
      }
    }
  })
})

describe('the HTTP server’s timeouts', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({
      env: { MEDIAGATE_POLICY_WHATSAPP: 'lazy' },
      serverTimeouts: { requestMs: 400, headersMs: 400, idleMs: 600, checkIntervalMs: 50 },
    })
  })
  afterAll(async () => h?.close())

  it('answers a request whose headers never finish with 408 and closes it', async () => {
    const answer = await rawExchange(h.gateway.url!, 'GET /v1/health HTTP/1.1\r\nHost: x\r\n', 5_000)
    expect(answer.closed).toBe(true)
    expect(answer.received).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('closes a connection whose client stopped reading a stored media, and not one that reads slowly past the request timeout', async () => {
    const bytes = jpeg(32 * MiB)
    const { record: r } = await whatsapp(h, bytes)
    const first = await h.api(`/v1/media/${r.id}/content`)
    expect(sha(Buffer.from(await first.arrayBuffer()))).toBe(sha(bytes))

    const stalled = await rawGet(h.gateway.url!, `/v1/media/${r.id}/content`, auth)
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    const cut = await readBody(stalled, bytes.length, 10_000)
    expect(cut.closed).toBe(true)
    expect(cut.complete).toBe(false)

    // Pauses shorter than the idle timeout, a response much longer than the request timeout.
    const reader = await rawGet(h.gateway.url!, `/v1/media/${r.id}/content`, auth)
    const started = Date.now()
    const read = await readBody(reader, bytes.length, 30_000, { pauseEveryBytes: 4 * MiB, pauseMs: 200 })
    expect(Date.now() - started).toBeGreaterThan(400)
    expect(read.complete).toBe(true)
    expect(sha(read.body.subarray(0, bytes.length))).toBe(sha(bytes))
  })

  it('keeps a connection open while the server waits for a capture longer than the idle timeout', async () => {
    const bytes = jpeg(50_000)
    const { record: r, mediaId } = await whatsapp(h, bytes)
    // A first Range request waits for the whole capture; Meta takes 2 s to start sending.
    h.emulator.setFaults(mediaId, { delayMs: 2_000 })
    const res = await h.api(`/v1/media/${r.id}/content`, { headers: { range: 'bytes=0-99' } })
    expect(res.status).toBe(206)
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(0, 100))).toBe(true)
  })
})
