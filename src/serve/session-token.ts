/**
 * Dashboard session tokens: `<expires>.<nonce>.<mac>`, where the MAC is an HMAC-SHA256 under a
 * key derived from the API key. The cookie never holds the API key itself; rotating the key ends
 * every session. Tokens are stateless, so any API process with the same key accepts them; a
 * logout also revokes the token in this process (a stolen copy elsewhere lives until it expires).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** Cookie name of the dashboard session. */
export const SESSION_COOKIE = 'mediagate_session'
/** How long a sign-in lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000

const MAX_REVOKED = 10_000
/** nonce → expiry (ms); a revoked token is refused until it would have expired anyway. */
const revoked = new Map<string, number>()

const sessionKey = (apiKey: string) => createHmac('sha256', apiKey).update('mediagate dashboard session v1').digest()
const mac = (apiKey: string, expires: number, nonce: string) =>
  createHmac('sha256', sessionKey(apiKey)).update(`session.v1.${expires}.${nonce}`).digest()

export function issueSessionToken(apiKey: string, now = Date.now()): { token: string; expiresAt: Date } {
  const expires = Math.floor((now + SESSION_TTL_MS) / 1000)
  const nonce = randomBytes(16).toString('base64url')
  return { token: `${expires}.${nonce}.${mac(apiKey, expires, nonce).toString('base64url')}`, expiresAt: new Date(expires * 1000) }
}

/** True when the token was issued under this API key, has not expired and was not revoked. */
export function verifySessionToken(token: string, apiKey: string | undefined, now = Date.now()): boolean {
  const parsed = parse(token)
  if (!apiKey || !parsed) return false
  const { expires, nonce, given } = parsed
  // A token claiming to live longer than any we issue was not issued by us.
  if (expires * 1000 <= now || expires * 1000 > now + SESSION_TTL_MS + 60_000) return false
  const expected = mac(apiKey, expires, nonce)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false
  return !revoked.has(nonce)
}

/** Refuses this token from now on in this process (logout). Unknown or malformed tokens are ignored. */
export function revokeSessionToken(token: string, now = Date.now()): void {
  const parsed = parse(token)
  if (!parsed) return
  for (const [nonce, expiresMs] of revoked) {
    if (expiresMs <= now || revoked.size >= MAX_REVOKED) revoked.delete(nonce)
    else break
  }
  revoked.set(parsed.nonce, parsed.expires * 1000)
}

function parse(token: string): { expires: number; nonce: string; given: Buffer } | undefined {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/.exec(token)
  if (!m) return undefined
  return { expires: Number(m[1]), nonce: m[2]!, given: Buffer.from(m[3]!, 'base64url') }
}
