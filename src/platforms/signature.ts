/**
 * Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`,
 * keyed with the app secret. It is computed over the bytes exactly as received (Meta escapes
 * `/` and non-ASCII characters, so a re-serialized body never matches). The legacy SHA-1
 * `X-Hub-Signature` header proves nothing we trust and is not accepted here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

const HEADER = /^sha256=([0-9a-fA-F]{64})$/

/** `sha256=<lowercase hex HMAC-SHA256>` of `body` with `secret`, as Meta sends it. */
export function signPayload(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/**
 * True when `header` (the `X-Hub-Signature-256` value) is the signature of `rawBody` under any
 * of `secrets` (several during an app-secret rotation). Never throws: a missing or malformed
 * header, an empty secret list or a body that is not bytes is simply `false` (a string is
 * refused too: decoding may already have changed the bytes Meta signed). Hex digits are
 * accepted in either case; they encode the same digest.
 */
export function verifySignature(rawBody: Buffer, header: string | undefined, secrets: readonly string[]): boolean {
  if (typeof header !== 'string' || !(rawBody instanceof Uint8Array) || !Array.isArray(secrets)) return false
  const match = HEADER.exec(header)
  if (!match) return false
  const given = Buffer.from(match[1]!, 'hex')
  let ok = false
  // Every secret is tried, so the time taken does not tell which one (or whether any) matched.
  for (const secret of secrets) {
    // An empty key would let anyone sign; treat it as not configured.
    if (typeof secret !== 'string' || secret.length === 0) continue
    const expected = createHmac('sha256', secret).update(rawBody).digest()
    ok = timingSafeEqual(expected, given) || ok
  }
  return ok
}
