/**
 * Signed content links: `/v1/links/{id}/content?exp=<unix seconds>&sig=<base64url>`, where
 * `sig` is HMAC-SHA256 over `mediagate-link-v1\n{id}\n{exp}`. They need no API key, so a browser
 * or a downstream app can use them directly, until `exp`. Several keys verify (rotation: add the
 * new key first, sign with it, drop the old one once its links have expired); the first signs.
 * Without MEDIAGATE_SIGNING_SECRET the key is derived from the API key with HKDF, so rotating
 * the API key also invalidates every link.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { MediagateError } from '../errors.js'

export const DEFAULT_LINK_SECONDS = 3600
export const MAX_LINK_SECONDS = 7 * 24 * 3600

const SIG_BYTES = 32

export type LinkCheck = 'valid' | 'expired' | 'invalid'

/** The HMAC keys: the configured secrets, or one derived from the API key; empty if neither. */
export function linkKeys(config: { signingSecrets: readonly string[]; apiKey: string | undefined }): Buffer[] {
  if (config.signingSecrets.length > 0) return config.signingSecrets.map((s) => Buffer.from(s, 'utf8'))
  if (!config.apiKey) return []
  return [Buffer.from(hkdfSync('sha256', config.apiKey, 'mediagate', 'mediagate signed links v1', SIG_BYTES))]
}

export class LinkSigner {
  constructor(private readonly keys: readonly Buffer[]) {}

  get enabled(): boolean {
    return this.keys.length > 0
  }

  /** The path and query of a link to the media's content, valid until `expiresAt` (whole seconds). */
  path(mediaId: string, expiresAt: Date): string {
    const key = this.keys[0]
    if (!key) throw new MediagateError('invalid_config', 'signed links need MEDIAGATE_SIGNING_SECRET or MEDIAGATE_API_KEY')
    const exp = Math.floor(expiresAt.getTime() / 1000)
    const sig = mac(key, mediaId, String(exp)).toString('base64url')
    return `/v1/links/${encodeURIComponent(mediaId)}/content?exp=${exp}&sig=${sig}`
  }

  /** Checks the signature (constant time, every key) before the expiry, so only genuine links are called expired. */
  check(mediaId: string, exp: unknown, sig: unknown, now: Date = new Date()): LinkCheck {
    if (typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return 'invalid'
    // Compared as text, not as decoded bytes: the last of 43 base64url characters carries two
    // unused bits, so decoding would accept four spellings of every signature.
    const given = Buffer.from(sig)
    let genuine = false
    for (const key of this.keys) {
      if (timingSafeEqual(Buffer.from(mac(key, mediaId, exp).toString('base64url')), given)) genuine = true
    }
    if (!genuine) return 'invalid'
    return Number(exp) * 1000 > now.getTime() ? 'valid' : 'expired'
  }
}

function mac(key: Buffer, mediaId: string, exp: string): Buffer {
  return createHmac('sha256', key).update(`mediagate-link-v1\n${mediaId}\n${exp}`).digest()
}
