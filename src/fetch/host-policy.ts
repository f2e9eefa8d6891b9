/**
 * Which hosts mediagate may download from (MEDIAGATE_ALLOWED_HOSTS), and which of them are
 * "explicitly listed". Two kinds of entry:
 * - a suffix entry, any name with a dot (`fbcdn.net`): matches that host and its subdomains on
 *   label boundaries, over https, to public addresses only;
 * - an explicit entry, an IP literal or a single-label name (`127.0.0.1`, `::1`, `localhost`):
 *   matches only itself, and admits plain http and non-public addresses (the emulator, tests).
 * A dotted name is never explicit, so listing `facebook.com` cannot open plain http or private
 * addresses to anything under it.
 */
import { isIP } from 'node:net'
import { MediagateError } from '../errors.js'

interface Entry {
  host: string
  explicit: boolean
}

/**
 * Canonical form of a host for comparisons: WHATWG URL host parsing (lowercase, punycode,
 * `0x7f.1` → `127.0.0.1`, compressed IPv6), brackets and trailing dots removed. Undefined when
 * it is not a host at all.
 */
export function canonicalHost(raw: string): string | undefined {
  // Every request asks this several times of the same few hosts; parsing a URL each time showed
  // in the capture profile. A pure function of its argument, so remembered (bounded).
  if (canonical.has(raw)) return canonical.get(raw)
  const host = parseHost(raw)
  if (canonical.size >= MAX_REMEMBERED) canonical.clear()
  canonical.set(raw, host)
  return host
}

const MAX_REMEMBERED = 1024
const canonical = new Map<string, string | undefined>()

function parseHost(raw: string): string | undefined {
  let host = raw.trim().replace(/\.+$/, '')
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`
  if (host === '' || /[/?#@\s]/.test(host)) return undefined
  try {
    const parsed = new URL(`http://${host}/`).hostname
    const bare = parsed.startsWith('[') ? parsed.slice(1, -1) : parsed
    return bare.replace(/\.+$/, '') || undefined
  } catch {
    return undefined
  }
}

export class HostPolicy {
  private readonly entries: readonly Entry[]

  /** Throws `invalid_config` for an entry that is not a host name or IP address. */
  constructor(allowedHosts: readonly string[]) {
    this.entries = allowedHosts.map((raw) => {
      const host = canonicalHost(raw.replace(/^\*\./, ''))
      if (!host) throw new MediagateError('invalid_config', `allowed host "${raw}" is not a host name or IP address`)
      return { host, explicit: isIP(host) !== 0 || !host.includes('.') }
    })
  }

  /** True when the host matches an entry (suffix or explicit). */
  allows(host: string): boolean {
    const h = canonicalHost(host)
    return h !== undefined && this.entries.some((e) => matches(e, h))
  }

  /** True when an explicit entry names exactly this host. */
  isExplicit(host: string): boolean {
    const h = canonicalHost(host)
    return h !== undefined && this.entries.some((e) => e.explicit && e.host === h)
  }
}

function matches(entry: Entry, host: string): boolean {
  if (entry.host === host) return true
  // IP literals and single-label names never match as suffixes: `1.127.0.0.1` is not "under" 127.0.0.1.
  return !entry.explicit && isIP(host) === 0 && host.endsWith(`.${entry.host}`)
}

/** True when `host` matches one of `entries` with the same rules as the allowlist (used for token hosts). */
export function hostMatchesAny(host: string, entries: readonly string[]): boolean {
  // Callers pass the same list for every request (a Graph client's token hosts): one policy each.
  let policy = policies.get(entries)
  if (!policy) {
    policy = new HostPolicy(entries)
    policies.set(entries, policy)
  }
  return policy.allows(host)
}

const policies = new WeakMap<readonly string[], HostPolicy>()
