/**
 * Secrets never reach logs or error messages: a full run at debug level, with successes and every
 * kind of failure (bad signatures, wrong API keys, auth failures at Graph, expired sources), and
 * the captured log lines and API answers are searched for each secret.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { signPayload } from '../../src/platforms/signature.js'
import { API_KEY, type Harness, startHarness, VERIFY_TOKEN } from '../helpers/harness.js'

const lines: string[] = []
let h: Harness
const seen: string[] = []

beforeAll(async () => {
  h = await startHarness({ logLevel: 'trace', logDestination: { write: (line: string) => void lines.push(line) } })
})
afterAll(async () => h?.close())

describe('secrets', () => {
  it('never appear in logs or answers', { timeout: 30_000 }, async () => {
    const record = async (res: Response) => {
      seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`)
      return res
    }
    // A stored WhatsApp and Messenger media.
    const ok = h.emulator.addWhatsAppMedia({ bytes: randomBytes(1000), mimeType: 'image/jpeg' })
    const okUrl = h.emulator.whatsappUrl(ok.id)
    await record(await h.postWebhook(whatsappMessage({ wamid: 'wamid.sec1', media: { type: 'image', id: ok.id, mime_type: 'image/jpeg', sha256: ok.sha256, url: okUrl } })))
    const cdn = h.emulator.addCdnMedia({ platform: 'messenger', bytes: randomBytes(1000), mimeType: 'image/jpeg' })
    await record(await h.postWebhook(messengerMessage({ mid: 'm_sec2', attachments: [{ type: 'image', url: cdn.url! }] })))
    // Failures: Graph refuses the token, the CDN URL expired, a wrong hash.
    const refused = h.emulator.addWhatsAppMedia({ bytes: randomBytes(1000), mimeType: 'image/jpeg' })
    h.emulator.setFaults(refused.id, { graphErrorCode: 190 })
    await record(await h.postWebhook(whatsappMessage({ wamid: 'wamid.sec3', media: { type: 'image', id: refused.id, mime_type: 'image/jpeg', sha256: refused.sha256 } })))
    const expired = h.emulator.addCdnMedia({ platform: 'instagram', bytes: randomBytes(1000), mimeType: 'image/jpeg' })
    h.emulator.setFaults(expired.id, { expired: true })
    await record(await h.postWebhook(messengerMessage({ mid: 'm_sec4', attachments: [{ type: 'image', url: expired.url! }] })))
    // Hostile requests.
    const body = Buffer.from('{"object":"page","entry":[]}')
    await record(await fetch(`${h.gateway.url}/webhooks/meta`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, 'wrong-secret') } }))
    await record(await fetch(`${h.gateway.url}/webhooks/meta?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`))
    await record(await fetch(`${h.gateway.url}/v1/media`, { headers: { authorization: `Bearer ${API_KEY}x` } }))

    const ids = (await (await h.api('/v1/media?limit=100')).json()) as { data: { id: string }[] }
    const settled = await h.settled(ids.data.map((m) => m.id))
    seen.push(JSON.stringify(settled))
    expect(settled.map((m) => m.status).sort()).toEqual(['failed', 'failed', 'stored', 'stored'])
    expect(settled.find((m) => m.message_id === 'wamid.sec3')!.error!.code).toBe('auth')

    // Request ids: echoed to the client, and on the log lines of that request.
    const traced = await fetch(`${h.gateway.url}/webhooks/meta`, { method: 'POST', body: Buffer.from('{}'), headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-123' } })
    expect(traced.headers.get('x-request-id')).toBe('trace-me-123')
    expect(lines.some((l) => l.includes('"requestId":"trace-me-123"'))).toBe(true)

    const everything = [...lines, ...seen].join('\n')
    expect(lines.length).toBeGreaterThan(5)
    const signedQuery = new URL(cdn.url!).searchParams.get('oh') ?? new URL(cdn.url!).search
    const whatsappHash = new URL(okUrl).searchParams.get('hash')!
    for (const secret of [h.emulator.accessToken, h.emulator.appSecret, API_KEY, VERIFY_TOKEN, signPayload(body, h.emulator.appSecret).slice(7), signedQuery, whatsappHash]) {
      expect(everything.includes(secret), `a secret leaked: ${secret.slice(0, 4)}…`).toBe(false)
    }
  })
})
