/**
 * Meta declares sha256 digests as hex in some places and base64 in others (the webhook
 * reference shows base64, Graph lookups were seen returning hex), so both are accepted.
 */

/** Lowercase hex of a declared sha256 given as hex or (standard or url-safe) base64; null if it is neither. */
export function normalizeSha256(declared: string): string | null {
  const value = declared.trim()
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase()
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) return null
  const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (bytes.length !== 32) return null
  // Reject non-canonical encodings (stray low bits in the last character) rather than guess.
  if (bytes.toString('base64').replace(/=$/, '') !== value.replace(/-/g, '+').replace(/_/g, '/').replace(/=$/, '')) return null
  return bytes.toString('hex')
}
