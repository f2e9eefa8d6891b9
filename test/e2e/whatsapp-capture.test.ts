/**
 * WhatsApp end to end over real HTTP: signed webhook → intake → worker resolves the media id
 * at the emulator's Graph API → downloads with the token → blob store → served byte-identical.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { whatsappError, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { newMedia } from '../catalog/fixtures.js'
import { type Harness, startHarness } from '../helpers/harness.js'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => h?.close())

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function sendWhatsApp(type: 'image' | 'video' | 'audio' | 'document' | 'sticker', mimeType: string, extra: Record<string, unknown> = {}, bytes = randomBytes(30_000)) {
  const media = h.emulator.addWhatsAppMedia({ bytes, mimeType, ...(extra.encoding ? { sha256Encoding: extra.encoding as 'hex' } : {}) })
  const payload = whatsappMessage({ media: { type, id: media.id, mime_type: mimeType, sha256: media.sha256, ...(extra.media as object) } })
  const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
  const res = await h.postWebhook(payload)
  expect(res.status).toBe(200)
  const [record] = await h.mediaOf(wamid)
  expect(record).toBeDefined()
  const [settled] = await h.settled([record!.id])
  return { media, bytes, wamid, record: settled! }
}

describe('WhatsApp capture', () => {
  it.each([
    ['image', 'image/jpeg', { caption: 'look at this' }],
    ['video', 'video/mp4', { caption: 'a clip' }],
    ['audio', 'audio/ogg; codecs=opus', { voice: true }],
    ['audio', 'audio/mpeg', { voice: false }],
    ['document', 'application/pdf', { filename: 'invoice.pdf', caption: 'the invoice' }],
    ['sticker', 'image/webp', { animated: false }],
  ] as const)('captures %s (%s) and serves the exact bytes', async (type, mime, mediaFields) => {
    const { record, bytes, media } = await sendWhatsApp(type, mime, { media: mediaFields })
    expect(record.status).toBe('stored')
    expect(record.platform).toBe('whatsapp')
    expect(record.kind).toBe(type)
    expect(record.sha256).toBe(sha(bytes))
    expect(record.size).toBe(bytes.length)
    expect(record.source.media_id).toBe(media.id)
    expect(record.declared.mime_type).toBe(mime)
    if ('caption' in mediaFields) expect(record.caption).toBe(mediaFields.caption)
    if ('filename' in mediaFields) expect(record.filename).toBe(mediaFields.filename)
    if ('voice' in mediaFields) expect(record.voice).toBe(mediaFields.voice)
    if ('animated' in mediaFields) expect(record.animated).toBe(mediaFields.animated)
    const content = await h.api(`/v1/media/${record.id}/content`)
    expect(content.status).toBe(200)
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(bytes))
    expect(content.headers.get('etag')).toBe(`"${sha(bytes)}"`)
    expect(content.headers.get('content-length')).toBe(String(bytes.length))
  })

  it('accepts a hex sha256 as well as base64', async () => {
    const { record, bytes } = await sendWhatsApp('image', 'image/jpeg', { encoding: 'hex' })
    expect(record.status).toBe('stored')
    expect(record.sha256).toBe(sha(bytes))
  })

  it('re-resolves the id when the download URL has expired', async () => {
    const bytes = randomBytes(5000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    h.emulator.setFaults(media.id, { expired: true, times: 1 })
    const before = h.emulator.stats()
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    await h.postWebhook(payload)
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    const [m] = await h.mediaOf(wamid)
    const [record] = await h.settled([m!.id])
    expect(record!.status).toBe('stored')
    expect(record!.sha256).toBe(sha(bytes))
    expect(record!.attempts).toBe(1)
    expect(h.emulator.stats().graphLookups - before.graphLookups).toBe(2)
  })

  it('uses the webhook url when present and falls back to the lookup when it is stale', async () => {
    const bytes = randomBytes(4000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/png' })
    const fresh = h.emulator.whatsappUrl(media.id)
    const before = h.emulator.stats().graphLookups
    const p1 = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/png', sha256: media.sha256, url: fresh } })
    await h.postWebhook(p1)
    const [a] = await h.mediaOf((p1.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
    expect((await h.settled([a!.id]))[0]!.status).toBe('stored')
    expect(h.emulator.stats().graphLookups).toBe(before)

    const stale = `${fresh.replace(/hash=[^&]+/, 'hash=tampered')}`
    const p2 = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/png', sha256: media.sha256, url: stale } })
    await h.postWebhook(p2)
    const [b] = await h.mediaOf((p2.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
    expect((await h.settled([b!.id]))[0]!.status).toBe('stored')
    expect(h.emulator.stats().graphLookups).toBe(before + 1)
  })

  it('fails with integrity, storing nothing, when the bytes do not match the declared hash', async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(3000), mimeType: 'image/jpeg' })
    h.emulator.setFaults(media.id, { wrongHash: true })
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: 'bm90IHRoZSBoYXNoIG9mIHRoZXNlIGJ5dGVzIGF0IGFsbCE=' } })
    await h.postWebhook(payload)
    const [m] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
    const [record] = await h.settled([m!.id])
    expect(record!.status).toBe('failed')
    expect(record!.error?.code).toBe('integrity')
    expect(record!.attempts).toBe(2)
    expect(record!.sha256).toBeNull()
    expect((await h.api(`/v1/media/${record!.id}/content`)).status).toBe(409)
  })

  it('fails with integrity when the size does not match', async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(3000), mimeType: 'image/jpeg' })
    h.emulator.setFaults(media.id, { wrongSize: true })
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    await h.postWebhook(payload)
    const [m] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
    const [record] = await h.settled([m!.id])
    expect(record!.status).toBe('failed')
    expect(record!.error?.code).toBe('integrity')
  })

  it('retries a 503 on the lookup and then stores', async () => {
    const bytes = randomBytes(2000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    h.emulator.setFaults(media.id, { lookupStatus: 503, times: 2 })
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    await h.postWebhook(payload)
    const [m] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
    const [record] = await h.settled([m!.id])
    expect(record!.status).toBe('stored')
    expect(record!.attempts).toBe(3)
    expect(record!.sha256).toBe(sha(bytes))
  })

  it('stores identical bytes once, for two records', async () => {
    const bytes = randomBytes(6000)
    const a = await sendWhatsApp('image', 'image/jpeg', {}, bytes)
    const b = await sendWhatsApp('image', 'image/jpeg', {}, bytes)
    expect(a.record.id).not.toBe(b.record.id)
    expect(a.record.sha256).toBe(b.record.sha256)
    let blobs = 0
    for await (const blob of h.gateway.blobs.list()) if (blob.key.endsWith(sha(bytes))) blobs++
    expect(blobs).toBe(1)
  })

  it('fails a media id past its 7-day window as source_expired without asking Meta', async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(100), mimeType: 'image/jpeg' })
    const lookups = h.emulator.stats().graphLookups
    const [recorded] = await h.gateway.catalog.recordWebhooks([
      {
        object: 'whatsapp_business_account',
        body: randomBytes(32),
        receivedAt: new Date(Date.now() - 8 * 86_400_000),
        media: [newMedia({ messageId: 'wamid.too-old', sourceMediaId: media.id, sourceExpiresAt: new Date(Date.now() - 86_400_000) })],
      },
    ])
    h.internals.capture!.wake()
    const [record] = await h.settled([recorded!.created[0]!.id])
    expect(record!.status).toBe('failed')
    expect(record!.error?.code).toBe('source_expired')
    expect(h.emulator.stats().graphLookups).toBe(lookups)
  })

  it("records WhatsApp's error webhooks (131052, file too large) as failed media with Meta's code", async () => {
    const payload = whatsappError({ code: 131052, from: '15550001111', wamid: 'wamid.too-large' })
    expect((await h.postWebhook(payload)).status).toBe(200)
    const [record] = await h.mediaOf('wamid.too-large')
    expect(record).toMatchObject({ status: 'failed', kind: 'unknown', error: { code: 'meta_error', vendor_code: 131052 } })
    expect(record!.error!.message).toContain('131052')
  })
})
