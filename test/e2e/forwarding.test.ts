/**
 * Forwarding to the user's app over real HTTP: a receiving app on 127.0.0.1 (node:http) that
 * verifies `X-Mediagate-Signature-256` with the library's `verifySignature`. Both modes; the app
 * answering 500 and then refusing connections for a while, then back (everything arrives, in
 * order per conversation); a gateway restart in between (the outbox is in the catalog).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { forwardsCommand } from '../../src/cli/commands/forwards.js'
import { loadConfig } from '../../src/config/load-config.js'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { ForwardBlock } from '../../src/forwarding/forward-body.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import { signPayload, verifySignature } from '../../src/platforms/signature.js'

const API_KEY = 'forward-test-api-key-0123456789'
const FORWARD_SECRET = 'forward-secret-for-the-app'

interface Received {
  raw: Buffer
  json: Record<string, unknown> & { mediagate: ForwardBlock }
  signatureOk: boolean
  hubSignatureOk: boolean
}

/** The user's app: answers `status` (or is closed), keeps what it accepted. */
class ReceivingApp {
  readonly received: Received[] = []
  status = 200
  requests = 0
  private server: http.Server | undefined
  port = 0

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/meta`
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.requests += 1
        const raw = Buffer.concat(chunks)
        if (this.status >= 200 && this.status < 300) {
          this.received.push({
            raw,
            json: JSON.parse(raw.toString('utf8')),
            signatureOk: verifySignature(raw, req.headers['x-mediagate-signature-256'] as string, [FORWARD_SECRET]),
            hubSignatureOk: verifySignature(raw, req.headers['x-hub-signature-256'] as string, [FORWARD_SECRET]),
          })
        }
        res.writeHead(this.status).end()
      })
    })
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }

  /** Waits (bounded) until `n` forwards were accepted. */
  async waitFor(n: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs
    while (this.received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    return this.received
  }
}

let emulator: Emulator
const cleanups: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  emulator = await startEmulator({ accessToken: 'emu-access-token-secret', appSecret: 'emu-app-secret-value' })
})
afterAll(async () => emulator?.close())
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function startGateway(app: ReceivingApp, env: Record<string, string> = {}, dataDir?: string): Promise<{ gateway: Gateway; dataDir: string }> {
  const dir = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'mediagate-fwd-')))
  if (!dataDir) cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const config = loadConfig({
    env: {
      MEDIAGATE_PORT: '0',
      MEDIAGATE_DATA_DIR: dir,
      META_APP_SECRET: emulator.appSecret,
      WHATSAPP_ACCESS_TOKEN: emulator.accessToken,
      META_GRAPH_URL: emulator.url,
      MEDIAGATE_API_KEY: API_KEY,
      MEDIAGATE_ALLOWED_HOSTS: new URL(emulator.url).hostname,
      MEDIAGATE_LOG_LEVEL: 'silent',
      MEDIAGATE_FORWARD_URL: app.url,
      MEDIAGATE_FORWARD_SECRET: FORWARD_SECRET,
      ...env,
    },
  })
  const gateway = await createGateway(config, { retry: { baseDelayMs: 50, maxDelayMs: 500 }, pollMs: 50, forwardRetry: { baseDelayMs: 20, maxDelayMs: 150 } })
  await gateway.start()
  let closed = false
  const close = async () => {
    if (!closed) await gateway.close()
    closed = true
  }
  cleanups.push(close)
  Object.assign(gateway, { closeOnce: close })
  return { gateway, dataDir: dir }
}

async function postWebhook(gateway: Gateway, payload: object): Promise<void> {
  const body = Buffer.from(JSON.stringify(payload))
  const res = await fetch(`${gateway.url}/webhooks/meta`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, emulator.appSecret) },
  })
  expect(res.status).toBe(200)
}

function imageWebhook(from = '16505551234') {
  const bytes = randomBytes(5000)
  const media = emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
  return { bytes, payload: whatsappMessage({ from, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } }) }
}

function api(gateway: Gateway, pathname: string, init: RequestInit = {}) {
  return fetch(`${gateway.url}${pathname}`, { ...init, headers: { authorization: `Bearer ${API_KEY}` } })
}

function withoutBlock(json: Record<string, unknown>): Record<string, unknown> {
  const { mediagate: _, ...meta } = json
  return meta
}

describe('forwarding', () => {
  it('received mode: forwards every webhook as Meta sent it plus one mediagate key, signed like Meta', async () => {
    const app = new ReceivingApp()
    await app.start()
    cleanups.push(() => app.stop())
    const { gateway } = await startGateway(app)
    const image = imageWebhook()
    const text = whatsappMessage({ text: 'hello there' })
    await postWebhook(gateway, image.payload)
    await postWebhook(gateway, text)
    const [first, second] = await app.waitFor(2)
    for (const r of [first!, second!]) {
      expect(r.signatureOk).toBe(true)
      expect(r.hubSignatureOk).toBe(true)
      expect(Object.keys(r.json).at(-1)).toBe('mediagate')
    }
    // Meta's part is byte-identical: the original body with the new key spliced in before its last brace.
    const original = JSON.stringify(image.payload)
    expect(first!.raw.toString('utf8').startsWith(original.slice(0, -1) + ',"mediagate":')).toBe(true)
    expect(withoutBlock(first!.json)).toEqual(image.payload)
    expect(withoutBlock(second!.json)).toEqual(text)
    const media = first!.json.mediagate.media
    expect(media).toHaveLength(1)
    expect(media[0]).toMatchObject({ message_id: (image.payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id, attachment_index: 0, platform: 'whatsapp', kind: 'image' })
    expect(media[0]!.id).toMatch(/^med_/)
    expect(media[0]!.content_url).toContain(`/v1/links/${media[0]!.id}/content?exp=`)
    expect(second!.json.mediagate).toMatchObject({ media: [] })
    expect(first!.json.mediagate.webhook_id).toMatch(/^whk_/)
    const sent = (await (await api(gateway, '/v1/forwards?status=sent')).json()) as { data: { status: string; webhook_id: string }[] }
    expect(sent.data.map((f) => f.webhook_id).sort()).toEqual([first!.json.mediagate.webhook_id, second!.json.mediagate.webhook_id].sort())
    // A redelivery of the same body is not forwarded twice.
    await postWebhook(gateway, text)
    await new Promise((r) => setTimeout(r, 300))
    expect(app.received).toHaveLength(2)
  })

  it('stored mode: forwards once the media is stored, with a working signed content link', async () => {
    const app = new ReceivingApp()
    await app.start()
    cleanups.push(() => app.stop())
    const { gateway } = await startGateway(app, { MEDIAGATE_FORWARD_WHEN: 'stored' })
    const image = imageWebhook()
    await postWebhook(gateway, image.payload)
    const [r] = await app.waitFor(1)
    const [media] = r!.json.mediagate.media
    expect(media, JSON.stringify(media)).toMatchObject({ status: 'stored', size: image.bytes.length, mime_type: 'image/jpeg', error: null })
    const content = await fetch(media!.content_url!)
    expect(content.status).toBe(200)
    expect(Buffer.from(await content.arrayBuffer()).equals(image.bytes)).toBe(true)
  })

  it('the app down (500, then refusing connections) and a gateway restart: everything arrives, in order per conversation', async () => {
    const app = new ReceivingApp()
    await app.start()
    cleanups.push(() => app.stop())
    app.status = 500
    const first = await startGateway(app)
    const sent: Record<string, string[]> = { a: [], b: [] }
    const send = async (gateway: Gateway, who: 'a' | 'b', i: number) => {
      const payload = whatsappMessage({ from: who === 'a' ? '15550000001' : '15550000002', text: `${who}${i}` })
      sent[who]!.push(`${who}${i}`)
      await postWebhook(gateway, payload)
    }
    for (let i = 0; i < 3; i++) {
      await send(first.gateway, 'a', i)
      await send(first.gateway, 'b', i)
    }
    // Bounded wait until the 500s have been seen a few times, then the app goes away entirely.
    for (let i = 0; i < 200 && app.requests < 4; i++) await new Promise((r) => setTimeout(r, 20))
    expect(app.requests).toBeGreaterThanOrEqual(4)
    await app.stop()
    await send(first.gateway, 'a', 3)
    await new Promise((r) => setTimeout(r, 200))
    const failing = (await (await api(first.gateway, '/v1/forwards?status=pending')).json()) as { data: { attempts: number; last_error: string | null }[] }
    expect(failing.data).toHaveLength(7)
    expect(failing.data.some((f) => f.attempts > 0 && /HTTP 500|could not deliver/.test(f.last_error ?? ''))).toBe(true)
    await (first.gateway as Gateway & { closeOnce(): Promise<void> }).closeOnce()

    // Restarted on the same data directory; the app is back on the same port.
    const second = await startGateway(app, {}, first.dataDir)
    await send(second.gateway, 'b', 3)
    app.status = 200
    await app.start()
    const received = await app.waitFor(8)
    expect(received).toHaveLength(8)
    expect(received.every((r) => r.signatureOk)).toBe(true)
    const order: Record<string, string[]> = { a: [], b: [] }
    for (const r of received) {
      const message = ((r.json.entry as { changes: { value: { messages: { text: { body: string } }[] } }[] }[])[0]!.changes[0]!.value.messages[0]!.text.body)
      order[message[0]!]!.push(message)
    }
    expect(order).toEqual(sent)
  })

  it('a forward that spends its budget is failed, listed, and retried on request', async () => {
    const app = new ReceivingApp()
    await app.start()
    cleanups.push(() => app.stop())
    app.status = 503
    const { gateway } = await startGateway(app, { MEDIAGATE_FORWARD_MAX_ATTEMPTS: '2' })
    await postWebhook(gateway, whatsappMessage({ text: 'will fail' }))
    let failed: { data: { id: string; attempts: number; last_error: string }[] } = { data: [] }
    for (let i = 0; i < 200 && failed.data.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 25))
      failed = (await (await api(gateway, '/v1/forwards?status=failed')).json()) as typeof failed
    }
    expect(failed.data).toHaveLength(1)
    expect(failed.data[0]).toMatchObject({ attempts: 2 })
    expect(failed.data[0]!.last_error).toContain('HTTP 503')
    expect(app.requests).toBe(2)
    // Nothing more is attempted on its own; the operator fixes the app and asks for a retry.
    await new Promise((r) => setTimeout(r, 300))
    expect(app.requests).toBe(2)
    app.status = 200
    const retried = await api(gateway, `/v1/forwards/${failed.data[0]!.id}/retry`, { method: 'POST' })
    expect(retried.status).toBe(202)
    expect(await retried.json()).toMatchObject({ status: 'pending', attempts: 0 })
    const [r] = await app.waitFor(1)
    expect(r!.json.mediagate.webhook_id).toBeDefined()
    expect((await api(gateway, `/v1/forwards/${failed.data[0]!.id}/retry`, { method: 'POST' })).status).toBe(409)
    expect((await api(gateway, '/v1/forwards?status=bogus')).status).toBe(400)
    expect((await fetch(`${gateway.url}/v1/forwards`)).status).toBe(401)
  })

  it('mediagate forwards lists failed forwards and --retry requeues them (in-process CLI on the same data directory)', async () => {
    const app = new ReceivingApp()
    await app.start()
    cleanups.push(() => app.stop())
    app.status = 500
    const { gateway, dataDir } = await startGateway(app, { MEDIAGATE_FORWARD_MAX_ATTEMPTS: '1' })
    await postWebhook(gateway, whatsappMessage({ text: 'cli' }))
    for (let i = 0; i < 200 && app.requests < 1; i++) await new Promise((r) => setTimeout(r, 20))
    await (gateway as Gateway & { closeOnce(): Promise<void> }).closeOnce()
    const run = async (...args: string[]) => {
      let out = ''
      const write = process.stdout.write
      process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write
      try {
        await forwardsCommand().parseAsync(['--data-dir', dataDir, ...args], { from: 'user' })
      } finally {
        process.stdout.write = write
      }
      return out
    }
    const listed = (await run('--status', 'failed', '--json')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; status: string; last_error: string })
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ status: 'failed' })
    expect(listed[0]!.last_error).toContain('HTTP 500')
    expect(await run('--retry')).toContain('requeued 1 forward')
    expect((await run('--status', 'pending', '--json')).trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([listed[0]!.id])
  })
})
