/**
 * The bench's client of a running gateway: posts signed webhooks, waits until capture has settled
 * everything, and reads the records back (status, received_at, stored_at) through the /v1 API.
 */
import { Pool } from 'undici'
import { sign } from '../../src/emulator/signing.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { API_KEY, APP_SECRET } from './gateway-child.js'
import { loopbackUrl } from './loopback.js'
import { sleep, waitFor } from './timing.js'

export const WEBHOOK_PATH = '/webhooks/meta'

export function signedHeaders(body: Buffer): Record<string, string> {
  return { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, APP_SECRET) }
}

export class GatewayClient {
  private readonly pool: Pool

  constructor(
    readonly url: string,
    connections = 32,
  ) {
    this.pool = new Pool(loopbackUrl(url), { connections, pipelining: 1 })
  }

  /** Posts one signed webhook; resolves with the time the 200 arrived (Date.now()). */
  async postWebhook(body: Buffer): Promise<number> {
    const res = await this.pool.request({ path: WEBHOOK_PATH, method: 'POST', headers: signedHeaders(body), body })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}: ${text.slice(0, 300)}`)
    return Date.now()
  }

  /** Posts every body, at most `concurrency` at once. */
  async postAll(bodies: readonly Buffer[], concurrency: number): Promise<void> {
    let next = 0
    const lane = async () => {
      while (next < bodies.length) await this.postWebhook(bodies[next++]!)
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, lane))
  }

  async api<T>(pathname: string): Promise<T> {
    const res = await this.pool.request({ path: pathname, method: 'GET', headers: { authorization: `Bearer ${API_KEY}` } })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`GET ${pathname} answered ${res.statusCode}: ${text.slice(0, 300)}`)
    return JSON.parse(text) as T
  }

  /** The Prometheus text of GET /metrics. */
  async metrics(): Promise<string> {
    const res = await this.pool.request({ path: '/metrics', method: 'GET', headers: { authorization: `Bearer ${API_KEY}` } })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}`)
    return text
  }

  async pendingLeft(): Promise<boolean> {
    const page = await this.api<{ data: MediaJson[] }>('/v1/media?status=pending&limit=1')
    return page.data.length > 0
  }

  /** Waits until no record is pending (all stored or failed). */
  async waitSettled(timeoutMs: number, intervalMs = 50): Promise<void> {
    await waitFor(async () => ((await this.pendingLeft()) ? undefined : true), { timeoutMs, intervalMs, what: 'capture to settle every media' })
  }

  /** Every record, newest first (paged; bounded by `maxRecords`). */
  async listAll(maxRecords = 100_000): Promise<MediaJson[]> {
    const all: MediaJson[] = []
    let cursor: string | null = null
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
      const page: { data: MediaJson[]; next_cursor: string | null } = await this.api(`/v1/media?limit=1000${q}`)
      all.push(...page.data)
      cursor = page.next_cursor
    } while (cursor && all.length < maxRecords)
    return all
  }

  async close(): Promise<void> {
    await this.pool.close()
  }
}

/** Sends `total` webhooks at a steady `perSecond`, in ticks of 10 ms; resolves when all were answered. */
export async function postAtRate(client: GatewayClient, bodies: readonly Buffer[], perSecond: number): Promise<{ sentMs: number; lateMs: number }> {
  const start = Date.now()
  const tickMs = 10
  const inFlight: Promise<number>[] = []
  let sent = 0
  let lateMs = 0
  while (sent < bodies.length) {
    const due = Math.min(bodies.length, Math.floor(((Date.now() - start) * perSecond) / 1000) + 1)
    while (sent < due) inFlight.push(client.postWebhook(bodies[sent++]!))
    const nextAt = start + ((sent * 1000) / perSecond)
    const wait = nextAt - Date.now()
    if (wait > 0) await sleep(Math.min(wait, tickMs))
    else {
      lateMs = Math.max(lateMs, -wait)
      await new Promise((r) => setImmediate(r))
    }
  }
  await Promise.all(inFlight)
  return { sentMs: Date.now() - start, lateMs }
}
