/**
 * Posts a webhook the way Meta does: the raw bytes (Meta's JSON escaping), signed with
 * `X-Hub-Signature-256` (and the legacy SHA-1 header), User-Agent `facebookexternalua`.
 */
import { request } from 'undici'
import { MediagateError } from '../errors.js'
import { metaJson, sign, signSha1 } from './signing.js'
import type { WebhookResult } from './types.js'

export interface PostWebhookOptions {
  target: string
  /** null: unsigned. */
  secret: string | null
  signatureOverride?: string
  /** Meta gives up on Messenger after 20 s. */
  timeoutMs?: number
}

export function webhookBody(payload: object | Buffer): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(metaJson(payload))
}

export async function postWebhook(payload: object | Buffer, opts: PostWebhookOptions): Promise<WebhookResult> {
  const body = webhookBody(payload)
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'facebookexternalua' }
  if (opts.signatureOverride !== undefined) headers['x-hub-signature-256'] = opts.signatureOverride
  else if (opts.secret !== null) {
    headers['x-hub-signature-256'] = sign(body, opts.secret)
    headers['x-hub-signature'] = signSha1(body, opts.secret)
  }
  const timeout = opts.timeoutMs ?? 20_000
  try {
    const res = await request(opts.target, { method: 'POST', headers, body, headersTimeout: timeout, bodyTimeout: timeout })
    return { status: res.statusCode, body: await res.body.text() }
  } catch (err) {
    // The target may carry a secret in its query string; name only its origin.
    const origin = URL.canParse(opts.target) ? new URL(opts.target).origin : 'the target'
    throw new MediagateError('network', `emulator: posting the webhook to ${origin} failed: ${(err as Error).message}`, { cause: err })
  }
}
