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
 * that embed an IPv4 address (NAT64, 6to4, Teredo). IPv4-mapped IPv6 is judged as the IPv4.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  try {
    return ipaddr.process(address).range() === 'unicast'
  } catch {
    return false
  }
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
