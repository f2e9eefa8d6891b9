/**
 * `/metrics` over real HTTP on a gateway fed by the emulator: it needs the key unless the option
 * says otherwise, and the series move as webhooks arrive and captures settle.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { type Harness, startHarness } from '../helpers/harness.js'
import { parseProm, type Sample, valueOf } from './prom-text.js'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => h?.close())

async function scrape(): Promise<Sample[]> {
  const res = await h.api('/metrics')
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseProm(await res.text())
}

const midOf = (p: { entry: { messaging?: { message?: Record<string, unknown> }[] }[] }) => p.entry[0]!.messaging![0]!.message!.mid as string
const wamidOf = (p: ReturnType<typeof whatsappMessage>) => (p.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id

async function sendAndSettle(payload: object, messageId: string) {
  const res = await h.postWebhook(payload)
  expect(res.status).toBe(200)
  const [m] = await h.mediaOf(messageId)
  const [settled] = await h.settled([m!.id])
  return settled!
}

describe('GET /metrics', () => {
  it('needs the API key', async () => {
    const res = await fetch(`${h.gateway.url}/metrics`)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } })
    const wrong = await fetch(`${h.gateway.url}/metrics`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
  })

  it('lists every series, at zero from the start', async () => {
    const s = await scrape()
    for (const result of ['ok', 'unauthorized', 'bad_request', 'too_large', 'unavailable']) {
      expect(valueOf(s, 'mediagate_webhook_requests_total', { result })).toBeTypeOf('number')
    }
    expect(valueOf(s, 'mediagate_captures_total', { platform: 'instagram', outcome: 'failed' })).toBe(0)
    expect(valueOf(s, 'mediagate_media', { platform: 'instagram', status: 'stored' })).toBe(0)
    expect(valueOf(s, 'mediagate_blob_store_errors_total')).toBe(0)
    expect(valueOf(s, 'mediagate_catalog_up')).toBe(1)
    for (const name of ['mediagate_queue_depth', 'mediagate_oldest_pending_age_seconds']) expect(valueOf(s, name)).toBeTypeOf('number')
  })

  it('counts webhooks, captures, bytes, durations and Graph errors as they happen', async () => {
    const before = await scrape()
    const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) => (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0)

    const bytes = randomBytes(12_345)
    const good = h.emulator.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'image/jpeg' })
    const goodPayload = messengerMessage({ attachments: [{ type: 'image', url: good.url! }] })
    expect((await sendAndSettle(goodPayload, midOf(goodPayload))).status).toBe('stored')

    const expired = h.emulator.addCdnMedia({ platform: 'messenger', bytes: randomBytes(100), mimeType: 'image/jpeg' })
    h.emulator.setFaults(expired.id, { expired: true })
    const expiredPayload = messengerMessage({ attachments: [{ type: 'image', url: expired.url! }] })
    expect((await sendAndSettle(expiredPayload, midOf(expiredPayload))).status).toBe('failed')

    const wa = h.emulator.addWhatsAppMedia({ bytes: randomBytes(100), mimeType: 'image/jpeg' })
    h.emulator.setFaults(wa.id, { graphErrorCode: 190 })
    const waPayload = whatsappMessage({ media: { type: 'image', id: wa.id, mime_type: 'image/jpeg', sha256: wa.sha256 } })
    const waRecord = await sendAndSettle(waPayload, wamidOf(waPayload))
    expect(waRecord.error).toMatchObject({ code: 'auth' })

    expect((await h.postWebhook(goodPayload, { 'x-hub-signature-256': 'sha256=00' })).status).toBe(401)
    expect((await h.postWebhook(Buffer.from('{not json'))).status).toBe(400)

    const after = await scrape()
    expect(delta(after, 'mediagate_webhook_requests_total', { result: 'ok' })).toBe(3)
    expect(delta(after, 'mediagate_webhook_requests_total', { result: 'unauthorized' })).toBe(1)
    expect(delta(after, 'mediagate_webhook_requests_total', { result: 'bad_request' })).toBe(1)
    expect(delta(after, 'mediagate_captures_total', { platform: 'messenger', outcome: 'stored' })).toBe(1)
    expect(delta(after, 'mediagate_captures_total', { platform: 'messenger', outcome: 'failed' })).toBe(1)
    expect(delta(after, 'mediagate_captures_total', { platform: 'whatsapp', outcome: 'failed' })).toBe(1)
    expect(delta(after, 'mediagate_download_bytes_total', { platform: 'messenger' })).toBe(bytes.length)
    expect(delta(after, 'mediagate_download_duration_seconds_count', { platform: 'messenger' })).toBe(2)
    expect(delta(after, 'mediagate_graph_errors_total', { code: 'auth' })).toBe(1)
    // CDN failures are not Graph errors.
    expect(delta(after, 'mediagate_graph_errors_total', { code: 'source_expired' })).toBe(0)
  })

  it('reports the catalog: media by platform and status, queue depth and oldest pending age', async () => {
    const slow = h.emulator.addCdnMedia({ platform: 'messenger', bytes: randomBytes(500), mimeType: 'image/jpeg' })
    h.emulator.setFaults(slow.id, { delayMs: 4000 })
    const payload = messengerMessage({ attachments: [{ type: 'image', url: slow.url! }] })
    expect((await h.postWebhook(payload)).status).toBe(200)
    // The gauges are read at scrape time through a cache of 2 s: poll (bounded) until they show it.
    let s: Sample[] = []
    for (let i = 0; i < 40; i++) {
      s = await scrape()
      if ((valueOf(s, 'mediagate_queue_depth') ?? 0) >= 1) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(valueOf(s, 'mediagate_queue_depth')).toBe(1)
    expect(valueOf(s, 'mediagate_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0)
    expect(valueOf(s, 'mediagate_media', { platform: 'messenger', status: 'pending' })).toBe(1)
    const counts = ((await (await h.api('/v1/stats')).json()) as { counts: { platform: string; status: string; count: number }[] }).counts
    const stored = counts.find((c) => c.platform === 'messenger' && c.status === 'stored')?.count ?? 0
    expect(valueOf(s, 'mediagate_media', { platform: 'messenger', status: 'stored' })).toBe(stored)
    expect(stored).toBeGreaterThanOrEqual(1)
  })
})

describe('MEDIAGATE_METRICS_PUBLIC=1', () => {
  let pub: Harness
  beforeAll(async () => {
    pub = await startHarness({ env: { MEDIAGATE_METRICS_PUBLIC: '1' } })
  })
  afterAll(async () => pub?.close())

  it('serves /metrics without the key, and still keeps /v1 behind it', async () => {
    const res = await fetch(`${pub.gateway.url}/metrics`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('mediagate_webhook_requests_total{result="ok"}')
    expect((await fetch(`${pub.gateway.url}/v1/stats`)).status).toBe(401)
  })
})
