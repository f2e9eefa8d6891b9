/**
 * An emulator and a gateway wired together over real HTTP on loopback, on a fresh data
 * directory (SQLite + disk unless overridden). Retries are fast so failure paths finish in ms.
 */
import type { CaptureRetryPolicy } from '../../src/capture/retry-policy.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/load-config.js'
import { type Emulator, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js'
import { createGateway, type Gateway, type GatewayInternals, type GatewayOptions, gatewayInternals } from '../../src/gateway.js'
import { createLogger } from '../../src/logging/logger.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type WhatsAppMediaType, whatsappMessage } from '../../src/emulator/webhook-payloads.js'

export const API_KEY = 'test-api-key-0123456789abcdef'
export const VERIFY_TOKEN = 'verify-me-please'

export interface Harness {
  emulator: Emulator
  gateway: Gateway
  /** The gateway's jobs, intake and parts (not library API). */
  internals: GatewayInternals
  dataDir: string
  /** GET/POST on the gateway with the API key. */
  api(pathname: string, init?: RequestInit): Promise<Response>
  /** Signs with the app secret and posts to /webhooks/meta. */
  postWebhook(payload: object | Buffer, headers?: Record<string, string>): Promise<Response>
  /** Polls until every listed media left `pending` (or the timeout passes) and returns them. */
  settled(ids: string[], timeoutMs?: number): Promise<MediaJson[]>
  /** All media of a message. */
  mediaOf(messageId: string): Promise<MediaJson[]>
  /**
   * Registers `bytes` as a WhatsApp media, sends its webhook and waits until it is stored (throws
   * otherwise). `fields` go into the webhook's media object as they are (filename, caption, voice).
   */
  storedWhatsApp(bytes: Buffer, media: { type: WhatsAppMediaType; mimeType: string; fields?: Record<string, unknown> }): Promise<MediaJson>
  close(): Promise<void>
}

export interface HarnessOptions {
  env?: Record<string, string>
  emulator?: Partial<EmulatorOptions>
  logLevel?: string
  /** Where log lines go (default stdout); tests that inspect logs pass a collecting stream. */
  logDestination?: { write(line: string): void }
  /** Capture backoff, for tests that fail for a long time on purpose (an outage). */
  retry?: Partial<CaptureRetryPolicy>
  /** The HTTP server's timeouts, shortened by tests of slow clients. */
  serverTimeouts?: GatewayOptions['serverTimeouts']
  /** A blob store to use instead of the data directory's (the caller closes it). */
  blobs?: GatewayOptions['blobs']
  /** The engines' poll while work comes (default 50 ms, so tests need no wake). */
  pollMs?: number
  /** What queued derivations read the CPU's contention from (GatewayOptions.cpuPressure). */
  cpuPressure?: GatewayOptions['cpuPressure']
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startEmulator({ accessToken: 'emu-access-token-secret', appSecret: 'emu-app-secret-value', ...options.emulator })
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-e2e-'))
  const config = loadConfig({
    env: {
      MEDIAGATE_PORT: '0',
      MEDIAGATE_DATA_DIR: dataDir,
      META_APP_SECRET: emulator.appSecret,
      META_VERIFY_TOKEN: VERIFY_TOKEN,
      WHATSAPP_ACCESS_TOKEN: emulator.accessToken,
      META_GRAPH_URL: emulator.url,
      MEDIAGATE_API_KEY: API_KEY,
      MEDIAGATE_ALLOWED_HOSTS: new URL(emulator.url).hostname,
      MEDIAGATE_LOG_LEVEL: options.logLevel ?? 'silent',
      // The suite keeps this machine's cores busy itself: derivations would wait out its CPU
      // pressure (up to MEDIAGATE_DERIVE_YIELD_MAX_MS). Tests of that wait set it, with a pressure of their own.
      MEDIAGATE_DERIVE_YIELD_PRESSURE: '0',
      ...options.env,
    },
  })
  const gateway = await createGateway(config, { retry: { baseDelayMs: 10, maxDelayMs: 100, ...options.retry }, pollMs: options.pollMs ?? 50, logger: createLogger(config.logLevel, options.logDestination as never), ...(options.serverTimeouts ? { serverTimeouts: options.serverTimeouts } : {}), ...(options.blobs ? { blobs: options.blobs } : {}), ...(options.cpuPressure !== undefined ? { cpuPressure: options.cpuPressure } : {}) })
  await gateway.start()
  const base = gateway.url!

  const api = (pathname: string, init: RequestInit = {}) =>
    fetch(`${base}${pathname}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, ...(init.headers as Record<string, string>) } })

  const harness: Harness = {
    emulator,
    gateway,
    internals: gatewayInternals(gateway),
    dataDir,
    api,
    async postWebhook(payload, headers = {}) {
      const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload))
      const { signPayload } = await import('../../src/platforms/signature.js')
      return fetch(`${base}/webhooks/meta`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, emulator.appSecret), ...headers },
      })
    },
    async settled(ids, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const all = await Promise.all(ids.map(async (id) => (await (await api(`/v1/media/${id}`)).json()) as MediaJson))
        if (all.every((m) => m.status !== 'pending') || Date.now() > deadline) return all
        await new Promise((r) => setTimeout(r, 25))
      }
    },
    async mediaOf(messageId) {
      const res = await api(`/v1/media?message_id=${encodeURIComponent(messageId)}`)
      return ((await res.json()) as { data: MediaJson[] }).data
    },
    async storedWhatsApp(bytes, { type, mimeType, fields }) {
      const media = emulator.addWhatsAppMedia({ bytes, mimeType })
      const payload = whatsappMessage({ media: { type, id: media.id, mime_type: mimeType, sha256: media.sha256, ...fields } })
      const posted = await harness.postWebhook(payload)
      if (posted.status !== 200) throw new Error(`the webhook was answered ${posted.status}`)
      const [m] = await harness.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
      const [record] = await harness.settled([m!.id])
      if (record!.status !== 'stored') throw new Error(`media ${m!.id} ended ${record!.status}: ${JSON.stringify(record!.error)}`)
      return record!
    },
    async close() {
      await gateway.close()
      await emulator.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
  return harness
}
