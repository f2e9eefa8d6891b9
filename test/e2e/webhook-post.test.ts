/**
 * The webhook POST is served on node:http ahead of fastify (intake/webhook-post.ts): what fastify
 * used to do for it is done by hand there, and checked here on real HTTP: the body limit (413,
 * announced or streamed), the request id (echoed or made, on the log lines), the webhook metric,
 * refusals that record nothing, the API's error body, the 503 while closing, and the role.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { Intake } from '../../src/intake/intake.js'
import { isWebhookPost, webhookPostHandler } from '../../src/intake/webhook-post.js'
import { createLogger } from '../../src/logging/logger.js'
import { Metrics } from '../../src/metrics/metrics.js'
import { signPayload } from '../../src/platforms/signature.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const lines: string[] = []
let h: Harness
beforeAll(async () => {
  h = await startHarness({ logLevel: 'info', logDestination: { write: (line) => void lines.push(line) } })
})
afterAll(async () => h?.close())

const url = () => `${h.gateway.url}/webhooks/meta`

async function total(): Promise<number> {
  const res = await h.api('/v1/media?limit=1000')
  return ((await res.json()) as { data: unknown[] }).data.length
}

async function webhookCount(result: string): Promise<number> {
  const text = await (await h.api('/metrics')).text()
  const line = text.split('\n').find((l) => l.startsWith(`mediagate_webhook_requests_total{result="${result}"}`))
  return line ? Number(line.split(' ').at(-1)) : 0
}

function signedPayload(): Buffer {
  const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(100), mimeType: 'image/jpeg' })
  return Buffer.from(JSON.stringify(whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })))
}

describe('POST /webhooks/meta on node:http', () => {
  it('answers 200 with the counts after the records are committed, and counts it', async () => {
    const before = await total()
    const ok = await webhookCount('ok')
    const res = await h.postWebhook(signedPayload())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await res.json()).toEqual({ received: true, recorded: 1, duplicates: 0 })
    expect(await total()).toBe(before + 1)
    expect(await webhookCount('ok')).toBe(ok + 1)
  })

  it('answers a query string on the path as the path', async () => {
    const res = await fetch(`${url()}?from=proxy`, { method: 'POST', body: signedPayload(), headers: { 'x-hub-signature-256': 'sha256=00' } })
    expect(res.status).toBe(401)
  })

  it('answers 413 to a body announced over 4 MiB, in the API error shape, counted as too_large, recording nothing', async () => {
    const before = await total()
    const tooLarge = await webhookCount('too_large')
    const body = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20)
    const res = await fetch(url(), { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, h.emulator.appSecret) } })
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({ error: { code: 'payload_too_large', message: 'Request body is too large' } })
    expect(res.headers.get('x-request-id')).toMatch(/^req-[0-9a-z]+$/)
    expect(await webhookCount('too_large')).toBe(tooLarge + 1)
    expect(await total()).toBe(before)
  })

  it('answers 413 to a streamed body (no Content-Length) once it passes 4 MiB', async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x20)
    const stream = Readable.from((function* () {
      for (let i = 0; i < 17; i++) yield chunk
    })())
    const res = await fetch(url(), { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' } } as RequestInit)
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } })
  })

  it('echoes the client’s X-Request-Id and logs with it; makes one otherwise, never the same twice', async () => {
    const res = await fetch(url(), { method: 'POST', body: Buffer.from('{}'), headers: { 'x-request-id': 'intake-probe-42' } })
    expect(res.status).toBe(401)
    expect(res.headers.get('x-request-id')).toBe('intake-probe-42')
    expect(lines.some((l) => l.includes('"requestId":"intake-probe-42"') && l.includes('request refused'))).toBe(true)

    const ids = new Set<string>()
    for (let i = 0; i < 3; i++) {
      const post = await fetch(url(), { method: 'POST', body: Buffer.from('{}') })
      ids.add(post.headers.get('x-request-id')!)
      // fastify's routes draw from the same sequence.
      ids.add((await h.api('/v1/media?limit=1')).headers.get('x-request-id')!)
    }
    expect(ids.size).toBe(6)
    for (const id of ids) expect(id).toMatch(/^req-[0-9a-z]+$/)
  })

  it.each([
    ['unsigned', (b: Buffer) => ({ body: b, signature: undefined as string | undefined, status: 401, code: 'unauthorized', result: 'unauthorized' })],
    ['signed but not JSON', () => {
      const b = Buffer.from('{"object":"whatsapp_business_account","entry":[')
      return { body: b, signature: signPayload(b, h.emulator.appSecret), status: 400, code: 'bad_request', result: 'bad_request' }
    }],
  ])('refuses a body %s in the API error shape, counted, recording nothing', async (_name, make) => {
    const c = make(signedPayload())
    const before = await total()
    const counted = await webhookCount(c.result)
    const res = await fetch(url(), { method: 'POST', body: c.body, headers: { 'content-type': 'application/json', ...(c.signature ? { 'x-hub-signature-256': c.signature } : {}) } })
    expect(res.status).toBe(c.status)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await res.json()).toMatchObject({ error: { code: c.code, message: expect.any(String) } })
    expect(await webhookCount(c.result)).toBe(counted + 1)
    expect(await total()).toBe(before)
  })

  it('leaves other methods on the path to fastify', async () => {
    const res = await fetch(url(), { method: 'PUT', body: '{}' })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no such route' } })
  })
})

describe('MEDIAGATE_ROLE=worker', () => {
  it('takes no webhooks: the POST is fastify\'s 404, as every API route there', async () => {
    const worker = await startHarness({ env: { MEDIAGATE_ROLE: 'worker' } })
    try {
      const body = Buffer.from('{}')
      const res = await fetch(`${worker.gateway.url}/webhooks/meta`, { method: 'POST', body, headers: { 'x-hub-signature-256': signPayload(body, worker.emulator.appSecret) } })
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no such route' } })
    } finally {
      await worker.close()
    }
  })
})

describe('while the gateway closes', () => {
  it('answers 503 as fastify does and records nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-webhook-post-'))
    const catalog = new SqliteCatalog({ path: path.join(dir, 'catalog.db') })
    await catalog.migrate()
    const secret = 'closing-test-app-secret'
    const logger = createLogger('silent')
    const metrics = new Metrics({ catalog })
    let closing = false
    const handle = webhookPostHandler({ intake: new Intake({ catalog, appSecrets: [secret], logger }), logger, metrics, requestId: () => 'req-closing', closing: () => closing })
    const server = http.createServer((req, res) => (isWebhookPost(req) ? handle(req, res) : res.writeHead(404).end()))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const post = () => {
        const body = Buffer.from(JSON.stringify(whatsappMessage({ media: { type: 'image', id: `m${Math.random()}`, mime_type: 'image/jpeg', sha256: randomBytes(32).toString('base64') } })))
        return fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/meta`, { method: 'POST', body, headers: { 'x-hub-signature-256': signPayload(body, secret) } })
      }
      expect((await post()).status).toBe(200)
      closing = true
      const refused = await post()
      expect(refused.status).toBe(503)
      expect(refused.headers.get('connection')).toBe('close')
      expect(refused.headers.get('x-request-id')).toBe('req-closing')
      expect(await refused.json()).toEqual({ error: 'Service Unavailable', message: 'Service Unavailable', statusCode: 503 })
      expect((await catalog.count({}, { atMost: 10 })).count).toBe(1)
      expect(await metrics.registry.getSingleMetricAsString('mediagate_webhook_requests_total')).toContain('result="unavailable"} 1')
    } finally {
      await new Promise((resolve) => server.close(resolve))
      await catalog.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

