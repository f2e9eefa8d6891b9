/**
 * Which IP addresses a download may connect to, checked on the addresses the socket is about to
 * use (the lookup result), not on an earlier resolution a DNS rebinding could change in between.
 */
import type { LookupAddress, LookupOptions } from 'node:dns'
import type { LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import { MediagateError } from '../errors.js'

/**
 * True only for globally routable unicast addresses. Everything ipaddr.js classifies otherwise
 * is refused: loopback, private, unique-local, link-local (169.254.169.254, the cloud metadata
 * address), multicast, unspecified, broadcast, CGNAT, reserved, documentation, and IPv6 forms
 * that embed an IPv4 address we cannot vouch for (6to4, Teredo). IPv4-mapped IPv6 is judged as
 * the IPv4; so is NAT64 (64:ff9b::/96), which the local NAT64 gateway turns into that IPv4 — on
 * an IPv6-only network with DNS64 every public host resolves to one, and a private one must stay
 * refused. IPv4-compatible addresses (::/96, deprecated by RFC 4291) are refused outright: stacks
 * disagree on whether they reach the embedded IPv4 (::7f00:1 → 127.0.0.1), so none is trusted.
 * The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) translates into networks of its
 * operator's choosing, so it is not public either.
 */
export function isPublicAddress(address: string): boolean {
  const parsed = parseAddress(address)
  if (!parsed) return false
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast'
  const v6 = parsed as ipaddr.IPv6
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range() === 'unicast'
  const words = v6.parts
  const zero = (from: number, to: number) => words.slice(from, to).every((w) => w === 0)
  if (zero(0, 6)) return false // ::/96: IPv4-compatible (and :: and ::1)
  if (words[0] === 0x64 && words[1] === 0xff9b) {
    if (zero(2, 6)) return embeddedIPv4(words).range() === 'unicast' // 64:ff9b::/96, well-known NAT64
    return false // 64:ff9b:1::/48 local-use NAT64, and the rest of 64:ff9b::/32 (unassigned)
  }
  return v6.range() === 'unicast'
}

/**
 * Parses an address the way the socket will use it. Node writes IPv6 canonically, but a dotted
 * tail (`::127.0.0.1`) is read by ipaddr.js as IPv4-mapped, not IPv4-compatible: URL parsing
 * rewrites it to hex words first (`::7f00:1`). A zone id (`fe80::1%eth0`) picks an interface,
 * which no public address needs: refused.
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (address.includes('%')) return undefined
  let text = address
  if (text.includes(':') && text.includes('.')) {
    try {
      text = new URL(`http://[${text}]/`).hostname.slice(1, -1)
    } catch {
      return undefined
    }
  }
  if (!ipaddr.isValid(text)) return undefined
  try {
    return ipaddr.parse(text)
  } catch {
    return undefined
  }
}

function embeddedIPv4(words: number[]): ipaddr.IPv4 {
  const [high = 0, low = 0] = words.slice(6)
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])
}

export function addressRefused(host: string, address: string): MediagateError {
  return new MediagateError('address_refused', `${host} resolves to ${address}, which is not a public address; list the host explicitly to allow it`)
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * Wraps a resolver for `net.connect({ lookup })`. Unless `admitsAnyAddress(hostname)` (an
 * explicitly listed host), a result with any non-public address is refused as a whole with
 * `address_refused`, so no connection is attempted. The inner resolver is always asked for
 * all addresses and the answer is given back in the shape the caller asked for.
 */
export function guardLookup(inner: LookupFunction, admitsAnyAddress: (hostname: string) => boolean): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    inner(hostname, { ...options, all: true }, (err, result, family) => {
      if (err) return callback(err, '', undefined)
      const addresses: LookupAddress[] = Array.isArray(result)
        ? result
        : [{ address: result, family: family ?? (result.includes(':') ? 6 : 4) }]
      if (!admitsAnyAddress(hostname)) {
        const bad = addresses.find((a) => !isPublicAddress(a.address))
        if (bad) return callback(addressRefused(hostname, bad.address) as NodeJS.ErrnoException, '', undefined)
      }
      const first = addresses[0]
      if (!first) return callback(Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENOTFOUND' }), '', undefined)
      if (options.all) return callback(null, addresses)
      callback(null, first.address, first.family)
    })
  }
}
