/**
 * A TCP forwarder on loopback in front of a real server (PostgreSQL, the S3 test server), so an
 * outage test can cut one gateway off from it, as a stopped or restarting server would look to
 * that gateway (connections reset, new ones refused), without stopping the server that other
 * test files share.
 */
import net from 'node:net'

export interface TcpProxy {
  readonly host: string
  readonly port: number
  /** Resets every connection and refuses new ones until `up()`. */
  down(): Promise<void>
  /** Accepts connections again, on the same port. */
  up(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }, host = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.once('close', () => sockets.delete(s))
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
  await listen(0)
  const port = (server.address() as net.AddressInfo).port
  let listening = true
  const stop = async () => {
    if (!listening) return
    listening = false
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of sockets) s.resetAndDestroy()
    await closed
  }
  return {
    host,
    port,
    down: stop,
    async up() {
      if (listening) return
      await listen(port)
      listening = true
    },
    close: stop,
  }
}
