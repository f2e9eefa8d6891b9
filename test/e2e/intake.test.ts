/** The webhook endpoint: handshake, every signature failure, body limits, redelivery. */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messengerMessage, whatsappMessage, whatsappStatus } from '../../src/emulator/webhook-payloads.js'
import { signPayload } from '../../src/platforms/signature.js'
import { type Harness, startHarness, VERIFY_TOKEN } from '../helpers/harness.js'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => h?.close())

async function total(): Promise<number> {
  const res = await h.api('/v1/media?limit=1000')
  return ((await res.json()) as { data: unknown[] }).data.length
}

function samplePayload() {
  const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(100), mimeType: 'image/jpeg' })
  return whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
}

describe('GET /webhooks/meta handshake', () => {
  const url = () => `${h.gateway.url}/webhooks/meta`
  it('echoes the challenge for the right token', async () => {
    const res = await fetch(`${url()}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('1158201444')
  })
  it.each([
    ['a wrong token', `hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`],
    ['a wrong mode', `hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`],
    ['no token', `hub.mode=subscribe&hub.challenge=1`],
    ['nothing', ''],
  ])('refuses %s with 403', async (_name, query) => {
    const res = await fetch(`${url()}?${query}`)
    expect(res.status).toBe(403)
  })
})

describe('POST /webhooks/meta signatures', () => {
  const post = (body: Buffer, signature?: string) =>
    fetch(`${h.gateway.url}/webhooks/meta`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-hub-signature-256': signature } : {}) },
    })

  it.each([
    ['a missing signature', (_b: Buffer) => undefined],
    ['an empty signature', () => ''],
    ['a signature with the wrong secret', (b: Buffer) => signPayload(b, 'not-the-app-secret')],
    ['a signature over different bytes', (b: Buffer) => signPayload(Buffer.concat([b, Buffer.from(' ')]), h.emulator.appSecret)],
    ['a SHA-1 style header', () => 'sha1=0123456789abcdef0123456789abcdef01234567'],
    ['garbage', () => 'sha256=zz'],
  ])('refuses %s with 401 and records nothing', async (_name, sign) => {
    const before = await total()
    const body = Buffer.from(JSON.stringify(samplePayload()))
    const res = await post(body, sign(body))
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } })
    expect(await total()).toBe(before)
  })

  it('answers 400 to a signed body that is not JSON', async () => {
    const body = Buffer.from('{"object": "page", "entry": [')
    const res = await post(body, signPayload(body, h.emulator.appSecret))
    expect(res.status).toBe(400)
  })

  it('answers 413 to a body over 4 MiB', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024 + 10, 0x20)
    const res = await post(body, signPayload(body, h.emulator.appSecret))
    expect(res.status).toBe(413)
  })

  it('acknowledges objects it does not handle without recording anything', async () => {
    const before = await total()
    const res = await h.postWebhook({ object: 'user', entry: [{ id: '1', changes: [{ field: 'feed', value: {} }] }] })
    expect(res.status).toBe(200)
    expect(await total()).toBe(before)
  })

  it('acknowledges status webhooks without creating media', async () => {
    const before = await total()
    const res = await h.postWebhook(whatsappStatus({ status: 'delivered' }))
    expect(res.status).toBe(200)
    expect(await total()).toBe(before)
  })
})

describe('redelivery', () => {
  it('creates no new record when Meta delivers the same webhook again', async () => {
    const payload = samplePayload()
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    for (let i = 0; i < 3; i++) expect((await h.postWebhook(payload)).status).toBe(200)
    const records = await h.mediaOf(wamid)
    expect(records).toHaveLength(1)
  })

  it('dedups the same message inside a different envelope too', async () => {
    const media = h.emulator.addCdnMedia({ platform: 'messenger', bytes: randomBytes(100), mimeType: 'image/jpeg' })
    const p1 = messengerMessage({ mid: 'm_redelivered_1', attachments: [{ type: 'image', url: media.url! }] })
    const p2 = messengerMessage({ mid: 'm_redelivered_1', attachments: [{ type: 'image', url: media.url! }], timestamp: Date.now() + 5000 })
    await h.postWebhook(p1)
    await h.postWebhook(p2)
    expect(await h.mediaOf('m_redelivered_1')).toHaveLength(1)
  })

  it('keeps the raw body of a recorded webhook', async () => {
    const payload = samplePayload()
    const body = Buffer.from(JSON.stringify(payload))
    await h.postWebhook(body)
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    const [record] = await h.mediaOf(wamid)
    const stored = await h.gateway.catalog.get(record!.id)
    expect(stored!.webhookId).toBeTruthy()
    expect(Buffer.compare((await h.gateway.catalog.getWebhookBody(stored!.webhookId!))!, body)).toBe(0)
  })
})
