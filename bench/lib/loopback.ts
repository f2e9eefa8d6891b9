/** The benchmark only ever talks to loopback; every target URL passes through this check. */
import { isIP } from 'node:net'

export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') ? host.slice(1, -1) : host
  if (h === '::1' || h === 'localhost') return true
  return isIP(h) === 4 && h.startsWith('127.')
}

/** Returns the URL, or throws if it points anywhere but loopback. */
export function loopbackUrl(url: string): string {
  const host = new URL(url).hostname
  if (!isLoopbackHost(host)) throw new Error(`bench: refusing to send traffic to ${host}; only loopback targets are allowed`)
  return url
}
