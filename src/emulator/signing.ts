/**
 * Webhook signatures as Meta makes them: HMAC-SHA256 of the raw body keyed with the app secret,
 * lowercase hex, prefixed `sha256=` (`X-Hub-Signature-256`); and the legacy SHA-1 variant
 * (`X-Hub-Signature`) that Meta still sends alongside.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export function sign(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export function signSha1(body: Buffer | string, secret: string): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`
}

/** Constant-time check of an `X-Hub-Signature-256` value. */
export function verifySignature(body: Buffer | string, secret: string, header: string | undefined): boolean {
  if (!header) return false
  const expected = Buffer.from(sign(body, secret))
  const given = Buffer.from(header)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/**
 * Serializes a payload the way Meta's webhooks are encoded: `/` escaped as `\/` and every
 * non-ASCII character as a `\uXXXX` escape. A receiver that re-serializes the parsed JSON
 * instead of hashing the raw bytes fails the signature, exactly as it would against Meta.
 */
export function metaJson(payload: unknown): string {
  return JSON.stringify(payload)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
