/**
 * The undici connector every download connection goes through. Names are resolved by a
 * guarded `lookup` inside `net.connect`, so the addresses checked are the ones connected to; IP
 * literals never reach `lookup`, so they are checked here before the socket is created.
 */
import { lookup as dnsLookup } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { buildConnector } from 'undici'
import { addressRefused, guardLookup, isPublicAddress } from './address-policy.js'
import type { HostPolicy } from './host-policy.js'

export interface GuardedConnectorOptions {
  policy: HostPolicy
  /** Defaults to `dns.lookup`. */
  lookup?: LookupFunction | undefined
  connectTimeoutMs: number
}

export function createGuardedConnector(o: GuardedConnectorOptions): buildConnector.connector {
  const admits = (host: string) => o.policy.isExplicit(host)
  const connect = buildConnector({
    timeout: o.connectTimeoutMs,
    lookup: guardLookup(o.lookup ?? (dnsLookup as LookupFunction), admits),
  })
  return (options, callback) => {
    const host = options.hostname.startsWith('[') ? options.hostname.slice(1, -1) : options.hostname
    if (isIP(host) !== 0 && !isPublicAddress(host) && !admits(host)) {
      callback(addressRefused(host, host), null)
      return
    }
    connect(options, callback)
  }
}
