/**
 * A safety net under the whole suite: no socket may connect anywhere but loopback. It sits below
 * everything we test (the fetcher's own guard runs before it), so it never changes a passing
 * test; it only turns a broken guard into a failing test instead of a packet to a real address.
 */
import { lookup as dnsLookup } from 'node:dns'
import net from 'node:net'

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/

export function isLoopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase()
  return LOOPBACK_V4.test(a) || a === '::1' || a === 'localhost' || /^::ffff:127\./.test(a)
}

export function refusal(target: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`test safety net: refused a connection to ${target} (tests may only reach loopback)`), { code: 'ELOOPBACKONLY' })
}

type LookupCb = (err: NodeJS.ErrnoException | null, address?: string | { address: string; family: number }[], family?: number) => void
type Lookup = (host: string, options: object, cb: LookupCb) => void

/** Wraps a resolver so that any non-loopback answer becomes an error before a connection. */
export function guardLookup(inner: Lookup): Lookup {
  return (hostname, options, cb) => {
    inner(hostname, options, (err, address, family) => {
      if (err) return cb(err)
      const list = Array.isArray(address) ? address.map((a) => a.address) : [address ?? '']
      const bad = list.find((a) => !isLoopback(a))
      if (bad !== undefined) return cb(refusal(`${hostname} (${bad})`))
      cb(null, address, family)
    })
  }
}

/**
 * The options object of a `socket.connect(...)` call, whatever form it came in: `net.connect`
 * passes `[options, cb]` as the first argument; users pass `(options)` or `(port, host)`.
 */
export function connectOptions(args: unknown[]): (net.TcpNetConnectOpts & { path?: string }) | undefined {
  let first = args[0]
  if (Array.isArray(first)) first = first[0]
  if (typeof first === 'object' && first !== null) return first as net.TcpNetConnectOpts
  if (typeof first === 'number' || typeof first === 'string') return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : 'localhost' }
  return undefined
}

/** Null when the connection may proceed (after its lookup is guarded), else the refusal. */
export function vetConnect(options: (net.TcpNetConnectOpts & { path?: string }) | undefined): NodeJS.ErrnoException | null {
  if (!options || options.path !== undefined) return null
  const host = (options.host ?? 'localhost').replace(/^\[|\]$/g, '')
  if (net.isIP(host) !== 0 && !isLoopback(host)) return refusal(host)
  if (net.isIP(host) === 0) options.lookup = guardLookup((options.lookup as Lookup | undefined) ?? (dnsLookup as unknown as Lookup)) as never
  return null
}

const original = net.Socket.prototype.connect
net.Socket.prototype.connect = function patchedConnect(this: net.Socket, ...args: unknown[]) {
  const refused = vetConnect(connectOptions(args))
  if (refused) {
    process.nextTick(() => this.destroy(refused))
    return this
  }
  return (original as (...a: unknown[]) => net.Socket).apply(this, args)
} as typeof net.Socket.prototype.connect
