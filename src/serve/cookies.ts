/** The two cookie operations the dashboard needs, without a cookie library. */

/** The value of one cookie from a `Cookie` request header, or undefined. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const raw = Array.isArray(header) ? header.join('; ') : header
  if (!raw) return undefined
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() !== name) continue
    let value = part.slice(eq + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    return value
  }
  return undefined
}

export interface SessionCookieOptions {
  /** Seconds; 0 deletes the cookie. */
  maxAgeSeconds: number
  secure: boolean
}

/** A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure over https. */
export function sessionCookie(name: string, value: string, options: SessionCookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`]
  if (options.secure) parts.push('Secure')
  return parts.join('; ')
}
