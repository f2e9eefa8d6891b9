/**
 * A `206 Partial Content` answered to a request for the whole media (issue 12, defect 7), on the
 * paths that serve a client while the bytes come from Meta: proxy (Messenger, Instagram) and lazy
 * (WhatsApp). The client never gets a part presented as the whole media; a 206 that covers every
 * byte is the media. Eager capture is in messaging-capture.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { instagramMessage, messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const jpeg = (size: number) => Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(size), Buffer.from('ffd9', 'hex')])
const midOf = (p: { entry: { messaging?: { message?: Record<string, unknown> }[] }[] }) => p.entry[0]!.messaging![0]!.message!.mid as string
const wamidOf = (p: { entry: { changes: { value: { messages?: unknown[] } }[] }[] }) => (p.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id

let h: Harness
beforeAll(async () => {
  h = await startHarness({ env: { MEDIAGATE_POLICY_WHATSAPP: 'lazy', MEDIAGATE_POLICY_MESSENGER: 'proxy', MEDIAGATE_POLICY_INSTAGRAM: 'proxy' } })
})
afterAll(async () => h?.close())
afterEach(() => h.emulator.clearFaults())

const record = async (id: string) => (await (await h.api(`/v1/media/${id}`)).json()) as MediaJson

async function messaging(platform: 'messenger' | 'instagram', bytes: Buffer): Promise<{ record: MediaJson; mediaId: string }> {
  const media = h.emulator.addCdnMedia({ platform, bytes, mimeType: 'image/jpeg' })
  const payload = (platform === 'messenger' ? messengerMessage : instagramMessage)({ attachments: [{ type: 'image', url: media.url! }] })
  expect((await h.postWebhook(payload)).status).toBe(200)
  const [r] = await h.mediaOf(midOf(payload))
  return { record: r!, mediaId: media.id }
}

describe.each(['instagram', 'messenger'] as const)('proxy (%s)', (platform) => {
  it('a 206 of the head only is answered 502 upstream, never as a 200 with part of the media', async () => {
    const bytes = jpeg(60_000)
    const { record: r, mediaId } = await messaging(platform, bytes)
    h.emulator.setFaults(mediaId, { partialContent: true })
    const res = await h.api(`/v1/media/${r.id}/content`)
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({ error: { code: 'upstream' } })
    // Nothing was learnt from the part: no hash, no size.
    expect(await record(r.id)).toMatchObject({ status: 'remote', sha256: null, size: null })

    h.emulator.clearFaults()
    const whole = await h.api(`/v1/media/${r.id}/content`)
    expect(whole.status).toBe(200)
    expect(sha(Buffer.from(await whole.arrayBuffer()))).toBe(sha(bytes))
  })

  it('a 206 covering every byte is served as the whole media', async () => {
    const bytes = jpeg(30_000)
    const { record: r, mediaId } = await messaging(platform, bytes)
    h.emulator.setFaults(mediaId, { partialContent: true, atByte: bytes.length })
    const res = await h.api(`/v1/media/${r.id}/content`)
    expect(res.status).toBe(200)
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length)
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(bytes))
    expect(await record(r.id)).toMatchObject({ sha256: sha(bytes), size: bytes.length })
  })
})

describe('lazy (WhatsApp)', () => {
  it('a 206 of the head only is answered 502 upstream before any byte; nothing is stored, the next request captures it', async () => {
    const bytes = jpeg(80_000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    expect((await h.postWebhook(payload)).status).toBe(200)
    const [r] = await h.mediaOf(wamidOf(payload))
    h.emulator.setFaults(media.id, { partialContent: true, times: 1 })
    const res = await h.api(`/v1/media/${r!.id}/content`)
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({ error: { code: 'upstream' } })
    expect((await record(r!.id)).status).toBe('remote')
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytes)))).toBeUndefined()

    const again = await h.api(`/v1/media/${r!.id}/content`)
    expect(again.status).toBe(200)
    expect(sha(Buffer.from(await again.arrayBuffer()))).toBe(sha(bytes))
    expect((await record(r!.id)).status).toBe('stored')
  })
})
