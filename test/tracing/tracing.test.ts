/**
 * OpenTelemetry tracing end to end: the real `mediagate serve` binary exporting to a loopback
 * OTLP/HTTP receiver (protocol http/json, so the test reads what arrives), the emulator as Meta,
 * and a receiving app for forwards. Also: with no OTEL_* variables, nothing is exported, no SDK
 * is loaded and log lines carry no trace ids.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { signPayload } from '../../src/platforms/signature.js'
import { startTracing, tracingWanted } from '../../src/tracing/index.js'
import { type ChildGateway, startChildGateway } from '../helpers/child-gateway.js'
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js'
import { until } from '../helpers/until.js'

const API_KEY = 'tracing-test-api-key-0123456789'
const FORWARD_SECRET = 'tracing-forward-secret-value'
const PROXY_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PROXY_SPAN_ID = '00f067aa0ba902b7'

/** The user's app: keeps the headers of every forward. */
async function startApp(): Promise<{ url: string; headers: http.IncomingHttpHeaders[]; close(): Promise<void> }> {
  const headers: http.IncomingHttpHeaders[] = []
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      headers.push(req.headers)
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    headers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

let emulator: Emulator
let dir: string

beforeAll(async () => {
  emulator = await startEmulator({ accessToken: 'emu-tracing-access-token', appSecret: 'emu-tracing-app-secret' })
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-tracing-'))
})

afterAll(async () => {
  await emulator?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

function gatewayEnv(dataDir: string, app: { url: string }): Record<string, string> {
  return {
    META_APP_SECRET: emulator.appSecret,
    WHATSAPP_ACCESS_TOKEN: emulator.accessToken,
    META_GRAPH_URL: emulator.url,
    MEDIAGATE_ALLOWED_HOSTS: new URL(emulator.url).hostname,
    MEDIAGATE_API_KEY: API_KEY,
    MEDIAGATE_DATA_DIR: dataDir,
    MEDIAGATE_SANDBOX: '0',
    MEDIAGATE_LOG_FORMAT: 'json',
    MEDIAGATE_FORWARD_URL: app.url,
    MEDIAGATE_FORWARD_SECRET: FORWARD_SECRET,
    MEDIAGATE_FORWARD_WHEN: 'stored',
  }
}

/** Posts a signed WhatsApp image webhook (with a proxy's traceparent when given); returns the message id. */
async function sendImage(gateway: ChildGateway, traceparent?: string): Promise<string> {
  const media = emulator.addWhatsAppMedia({ bytes: randomBytes(3000), mimeType: 'image/jpeg' })
  const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
  const body = Buffer.from(JSON.stringify(payload))
  const res = await fetch(`${gateway.url}/webhooks/meta`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, emulator.appSecret), ...(traceparent ? { traceparent } : {}) },
    body,
  })
  expect(res.status).toBe(200)
  return String(payload.entry[0]!.changes[0]!.value.messages![0]!.id)
}

async function storedMedia(gateway: ChildGateway, messageId: string): Promise<{ id: string; status: string } | undefined> {
  const res = await fetch(`${gateway.url}/v1/media?message_id=${encodeURIComponent(messageId)}`, { headers: { authorization: `Bearer ${API_KEY}` } })
  const page = (await res.json()) as { data: { id: string; status: string }[] }
  return page.data[0]?.status === 'stored' ? page.data[0] : undefined
}

function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('tracing on (OTLP http/json to a loopback receiver)', () => {
  const receiver = new OtlpReceiver()
  let app: Awaited<ReturnType<typeof startApp>>
  let gateway: ChildGateway
  let messageId: string
  let mediaId: string
  let output: string

  beforeAll(async () => {
    await receiver.start()
    app = await startApp()
    gateway = await startChildGateway({
      ...gatewayEnv(path.join(dir, 'on'), app),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'mediagate-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    })
    messageId = await sendImage(gateway, `00-${PROXY_TRACE_ID}-${PROXY_SPAN_ID}-01`)
    mediaId = (await until('the media to be stored', () => storedMedia(gateway, messageId), { timeoutMs: 30_000 })).id
    await until('the forward', () => app.headers.length > 0, { timeoutMs: 30_000 })
    // SIGTERM flushes what the batch processor still holds.
    await gateway.kill('SIGTERM')
    output = gateway.output()
  }, 90_000)

  afterAll(async () => {
    await gateway?.kill()
    await app?.close()
    await receiver.stop()
  })

  const spansNamed = (name: string): ReceivedSpan[] => receiver.spans.filter((s) => s.name === name)

  it('exports with protocol http/json under the configured service name', () => {
    expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true)
    expect(receiver.spans.length).toBeGreaterThan(0)
    expect(new Set(receiver.spans.map((s) => s.service))).toEqual(new Set(['mediagate-under-test']))
  })

  it('traces the webhook intake as a server span continuing the proxy trace, with the media it recorded', () => {
    const [webhook] = spansNamed('webhook')
    expect(webhook).toBeDefined()
    expect(webhook!.kind).toBe(2) // SERVER
    expect(webhook!.traceId).toBe(PROXY_TRACE_ID)
    expect(webhook!.parentSpanId).toBe(PROXY_SPAN_ID)
    expect(webhook!.attributes['mediagate.media_id']).toEqual([mediaId])
    expect(webhook!.attributes['mediagate.message_id']).toEqual([messageId])
    expect(webhook!.attributes['mediagate.platform']).toEqual(['whatsapp'])
  })

  it('traces one capture per media, linked to the webhook span, with lookup, download, put and settlement as children', () => {
    const [webhook] = spansNamed('webhook')
    const captures = spansNamed('capture')
    expect(captures).toHaveLength(1)
    const capture = captures[0]!
    expect(capture.parentSpanId).toBe('')
    expect(capture.traceId).not.toBe(webhook!.traceId)
    expect(capture.links).toEqual([{ traceId: webhook!.traceId, spanId: webhook!.spanId }])
    expect(capture.attributes).toMatchObject({ 'mediagate.media_id': mediaId, 'mediagate.platform': 'whatsapp', 'mediagate.message_id': messageId })
    const children = receiver.spans.filter((s) => s.parentSpanId === capture.spanId)
    expect(children.map((s) => s.name).sort()).toEqual(['blob.put', 'download', 'graph.lookup', 'settle'])
    for (const child of children) expect(child.traceId).toBe(capture.traceId)
    const download = children.find((s) => s.name === 'download')!
    expect(download.attributes).toMatchObject({ 'http.response.status_code': 200, 'server.address': '127.0.0.1' })
  })

  it('sends a traceparent with the forward that names the forward span, linked to the webhook', () => {
    const [webhook] = spansNamed('webhook')
    const [forward] = spansNamed('forward')
    expect(forward).toBeDefined()
    expect(forward!.links).toEqual([{ traceId: webhook!.traceId, spanId: webhook!.spanId }])
    expect(app.headers[0]!['traceparent']).toBe(`00-${forward!.traceId}-${forward!.spanId}-01`)
  })

  it('puts trace_id and span_id on log lines written inside a span', () => {
    const capture = spansNamed('capture')[0]!
    const stored = logLines(output).find((line) => line['msg'] === 'media stored')
    expect(stored).toBeDefined()
    expect(stored!['trace_id']).toBe(capture.traceId)
    expect(receiver.spans.filter((s) => s.traceId === capture.traceId).map((s) => s.spanId)).toContain(stored!['span_id'])
  })

  it('exports no token, secret, key or URL', () => {
    const everything = receiver.bodies.join('\n')
    for (const secret of [emulator.accessToken, emulator.appSecret, API_KEY, FORWARD_SECRET]) expect(everything).not.toContain(secret)
    const values = receiver.spans.flatMap((s) => Object.values(s.attributes).flat().map(String))
    expect(values.filter((v) => /https?:|[?&](sig|oe|oh|token)=/.test(v))).toEqual([])
  })
})

describe('tracing off', () => {
  it('is wanted only when an exporter or an OTLP endpoint is configured, and not disabled', () => {
    expect(tracingWanted({})).toBe(false)
    expect(tracingWanted({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe(false)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true)
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true)
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false)
    expect(tracingWanted({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false)
  })

  it('never loads the SDK without OTEL_* variables', async () => {
    let loads = 0
    const tracing = await startTracing({ OTEL_SERVICE_NAME: 'not-enough' }, () => {
      loads += 1
      throw new Error('the SDK must not be loaded')
    })
    expect(tracing.enabled).toBe(false)
    expect(loads).toBe(0)
  })

  it('exports nothing and writes no trace ids when the gateway runs without OTEL_* variables', async () => {
    const receiver = new OtlpReceiver()
    await receiver.start()
    const app = await startApp()
    // The receiver listens, but nothing tells the gateway about it.
    const gateway = await startChildGateway({ ...gatewayEnv(path.join(dir, 'off'), app), OTEL_SERVICE_NAME: 'mediagate-off' })
    try {
      const messageId = await sendImage(gateway, `00-${PROXY_TRACE_ID}-${PROXY_SPAN_ID}-01`)
      await until('the media to be stored', () => storedMedia(gateway, messageId), { timeoutMs: 30_000 })
      await until('the forward', () => app.headers.length > 0, { timeoutMs: 30_000 })
      await gateway.kill('SIGTERM')
      expect(app.headers[0]!['traceparent']).toBeUndefined()
      const lines = logLines(gateway.output())
      expect(lines.some((line) => line['msg'] === 'media stored')).toBe(true)
      expect(lines.filter((line) => 'trace_id' in line || 'span_id' in line)).toEqual([])
      expect(receiver.bodies).toEqual([])
    } finally {
      await gateway.kill()
      await app.close()
      await receiver.stop()
    }
  }, 60_000)
})
