/**
 * Issue 12: proxy serving looked a WhatsApp media up at Graph (with the business token) on every
 * request. The resolved URL is now reused while it lives, concurrent requests share one lookup
 * (each still downloads: their ranges differ), and a reused URL Meta refuses is resolved again.
 * Over real HTTP against the emulator, which counts every lookup and download.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const jpeg = (size: number) => Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(size), Buffer.from('ffd9', 'hex')])

async function proxied(h: Harness, bytes: Buffer): Promise<{ id: string; mediaId: string }> {
  const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
  // No webhook `url`: every request has to go through the media id.
  const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
  expect((await h.postWebhook(payload)).status).toBe(200)
  const [record] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
  expect(record).toMatchObject({ status: 'remote', policy: 'proxy' })
  return { id: (record as MediaJson).id, mediaId: media.id }
}

const body = async (res: Response) => Buffer.from(await res.arrayBuffer())

describe('the WhatsApp URL cache behind proxy serving', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ env: { MEDIAGATE_POLICY_WHATSAPP: 'proxy' } })
  })
  afterAll(async () => h?.close())

  const counters = (mediaId: string) => h.emulator.stats().byMedia[mediaId]!
  const refused = () => h.emulator.stats().requests['whatsapp.download']?.['404'] ?? 0

  it('serves ten concurrent requests for one media with one Graph lookup and ten downloads', async () => {
    const bytes = jpeg(60_000)
    const { id, mediaId } = await proxied(h, bytes)
    const before = h.emulator.stats().graphLookups
    const bodies = await Promise.all(Array.from({ length: 10 }, async () => body(await h.api(`/v1/media/${id}/content`))))
    for (const b of bodies) expect(sha(b)).toBe(sha(bytes))
    expect(h.emulator.stats().graphLookups - before).toBe(1)
    expect(counters(mediaId)).toMatchObject({ lookups: 1, downloadsCompleted: 10 })
    // A range request reuses it too, and Meta answers the range.
    const slice = await h.api(`/v1/media/${id}/content`, { headers: { range: 'bytes=10-19' } })
    expect(slice.status).toBe(206)
    expect((await body(slice)).equals(bytes.subarray(10, 20))).toBe(true)
    expect(counters(mediaId).lookups).toBe(1)
  })

  it('resolves a reused URL that Meta refuses as expired again, transparently, and keeps the new one', async () => {
    const bytes = jpeg(20_000)
    const { id, mediaId } = await proxied(h, bytes)
    expect(sha(await body(await h.api(`/v1/media/${id}/content`)))).toBe(sha(bytes))
    expect(counters(mediaId).lookups).toBe(1)
    const refusedBefore = refused()
    h.emulator.setFaults(mediaId, { expired: true, times: 1 })
    const res = await h.api(`/v1/media/${id}/content`)
    expect(res.status).toBe(200)
    expect(sha(await body(res))).toBe(sha(bytes))
    expect(refused() - refusedBefore).toBe(1)
    expect(counters(mediaId).lookups).toBe(2)
    expect(sha(await body(await h.api(`/v1/media/${id}/content`)))).toBe(sha(bytes))
    expect(counters(mediaId).lookups).toBe(2)
  })

  it('does not reuse what Meta declared once the bytes failed it: the next request asks Meta again', async () => {
    // Large enough that the response has started when the check fails at the end.
    const bytes = jpeg(200_000)
    const { id, mediaId } = await proxied(h, bytes)
    h.emulator.setFaults(mediaId, { wrongHash: true, times: 1 })
    const bad = await h.api(`/v1/media/${id}/content`)
    expect(bad.status).toBe(200)
    await expect(bad.arrayBuffer()).rejects.toThrow()
    const good = await h.api(`/v1/media/${id}/content`)
    expect(sha(await body(good))).toBe(sha(bytes))
    expect(counters(mediaId).lookups).toBe(2)
  })
})

describe('the URL’s own lifetime', () => {
  let h: Harness
  beforeAll(async () => {
    // Meta's URLs live 5 minutes and say so in `ext`; these live 3 s.
    h = await startHarness({ env: { MEDIAGATE_POLICY_WHATSAPP: 'proxy' }, emulator: { urlTtlMs: 3_000 } })
  })
  afterAll(async () => h?.close())

  it('looks the media up again once the URL is past its lifetime, before Meta would refuse it', async () => {
    const bytes = jpeg(20_000)
    const { id, mediaId } = await proxied(h, bytes)
    const lookedUpAt = Date.now()
    expect(sha(await body(await h.api(`/v1/media/${id}/content`)))).toBe(sha(bytes))
    expect(sha(await body(await h.api(`/v1/media/${id}/content`)))).toBe(sha(bytes))
    expect(h.emulator.stats().byMedia[mediaId]!.lookups).toBe(1)
    // `ext` is whole seconds: the URL expires 3–4 s after the lookup, the entry a fifth of that
    // earlier (2.4–3.2 s); a reused URL past its end would show as a refused download below.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lookedUpAt + 4_200 - Date.now())))
    expect(sha(await body(await h.api(`/v1/media/${id}/content`)))).toBe(sha(bytes))
    expect(h.emulator.stats().byMedia[mediaId]).toMatchObject({ lookups: 2, downloadsCompleted: 3 })
    // Never a refused download: the entry was dropped before the URL died.
    expect(h.emulator.stats().requests['whatsapp.download']?.['404'] ?? 0).toBe(0)
  })
})
