/**
 * One delivery attempt to the user's app. This is the operator's own app, often on a private
 * network, so the SSRF guard of the media fetcher does not apply; nothing of Meta's (tokens,
 * Meta's signature header) is sent, only the payload and mediagate's own signature.
 */
import { Agent, request } from 'undici'
import { signPayload } from '../platforms/signature.js'
import { USER_AGENT } from '../version.js'
import { traceHeaders } from '../tracing/index.js'

export interface DeliveryTarget {
  url: string
  secret: string
  timeoutMs: number
}

/** Empty when the app answered 2xx; otherwise why not (never contains the secret). */
export type DeliveryResult = { ok: true } | { ok: false; reason: string }

export class ForwardPoster {
  private readonly agent: Agent

  constructor(private readonly target: DeliveryTarget) {
    this.agent = new Agent({ connect: { timeout: target.timeoutMs }, headersTimeout: target.timeoutMs, bodyTimeout: target.timeoutMs })
  }

  async post(body: Buffer, meta: { forwardId: string; webhookId: string; attempt: number }): Promise<DeliveryResult> {
    const signature = signPayload(body, this.target.secret)
    try {
      const response = await request(this.target.url, {
        method: 'POST',
        dispatcher: this.agent,
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          // The same scheme as Meta's: verifySignature (or the app's existing check) accepts it.
          'x-mediagate-signature-256': signature,
          // Existing handlers check Meta's header: with MEDIAGATE_FORWARD_SECRET = the app secret they work unchanged.
          'x-hub-signature-256': signature,
          'x-mediagate-forward-id': meta.forwardId,
          'x-mediagate-webhook-id': meta.webhookId,
          'x-mediagate-attempt': String(meta.attempt),
          // When tracing: the forward's span, so the app's own trace continues it.
          ...traceHeaders(),
        },
        signal: AbortSignal.timeout(this.target.timeoutMs),
      })
      // Drain so the connection can be reused; the app's answer carries nothing we need.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined)
      if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true }
      return { ok: false, reason: `the app answered HTTP ${response.statusCode}` }
    } catch (err) {
      const e = err as Error & { code?: string }
      return { ok: false, reason: `could not deliver: ${e.code ?? e.name}${e.message ? ` (${e.message})` : ''}` }
    }
  }

  close(): Promise<void> {
    return this.agent.close()
  }
}
