/**
 * Parsers for configuration values. Each returns the value or throws a plain message; the loader
 * collects every message so a user fixes all wrong values in one go.
 */

import ipaddr from 'ipaddr.js'

export class ConfigValueError extends Error {}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `90m`, `24h`, `7d`, `3600s` → milliseconds. */
export function parseDuration(raw: string): number {
  const match = /^(\d{1,6})\s*([smhd])$/.exec(raw.trim())
  if (!match) throw new ConfigValueError(`must be a duration such as 90s, 30m, 24h or 7d, got "${raw}"`)
  return Number(match[1]) * DURATION_UNITS[match[2]!]!
}

export function parseInteger(raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigValueError(`must be a whole number, got "${raw}"`)
  const value = Number(raw.trim())
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigValueError(`must be between ${min} and ${max}, got ${raw}`)
  }
  return value
}

export function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false
  throw new ConfigValueError(`must be 1/0, true/false, yes/no or on/off, got "${raw}"`)
}

export function parseChoice<T extends string>(raw: string, choices: readonly T[]): T {
  const v = raw.trim().toLowerCase()
  if ((choices as readonly string[]).includes(v)) return v as T
  throw new ConfigValueError(`must be one of ${choices.join(', ')}, got "${raw}"`)
}

export function parseHttpUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new ConfigValueError(`must be an absolute URL, got "${raw}"`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigValueError(`must be an http(s) URL, got "${url.protocol}"`)
  }
  return url.toString().replace(/\/+$/, '')
}

export function parseGraphVersion(raw: string): string {
  const v = raw.trim()
  if (!/^v\d+\.\d+$/.test(v)) throw new ConfigValueError(`must look like v26.0, got "${raw}"`)
  return v
}

/** Host names for the download allowlist: lowercase, no scheme, port or trailing dot. */
export function parseHostList(raw: string): string[] {
  return parseList(raw).map((entry) => {
    const host = entry.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '')
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+|[0-9a-f:]+)$/.test(host) || host.startsWith('.')) {
      throw new ConfigValueError(`"${entry}" is not a host name or IP address (no scheme, port or path)`)
    }
    return host
  })
}

/** Names proxy-addr (Fastify's trustProxy) understands for common ranges. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const

/** Reverse proxies to trust: IP addresses, CIDR ranges, or loopback/linklocal/uniquelocal. */
export function parseProxyList(raw: string): string[] {
  const entries = parseList(raw)
  if (entries.length === 0) throw new ConfigValueError('must name at least one address, CIDR range, loopback, linklocal or uniquelocal')
  return entries.map((entry) => {
    const value = entry.toLowerCase()
    if ((PROXY_RANGE_NAMES as readonly string[]).includes(value)) return value
    const [address = '', prefix, ...rest] = value.split('/')
    const strict = ipaddr.IPv4.isValidFourPartDecimal(address) || (address.includes(':') && ipaddr.IPv6.isValid(address))
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (address.includes(':') ? 128 : 32))
    if (!strict || !validPrefix || rest.length > 0) throw new ConfigValueError(`"${entry}" is not an IP address, a CIDR range (10.0.0.0/8), loopback, linklocal or uniquelocal`)
    return value
  })
}
