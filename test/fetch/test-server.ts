/**
 * A loopback HTTP server for the fetch and graph suites: records every request (method, path,
 * headers) and counts TCP connections, so tests can prove a refusal happened before connecting.
 */
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface RecordedRequest {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
}

export interface TestServer {
  /** `http://host:port` */
  readonly url: string
  readonly port: number
  readonly requests: RecordedRequest[]
  /** TCP connections accepted so far. */
  readonly connections: number
  close(): Promise<void>
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

export async function startServer(host: string, handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  let connections = 0
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers })
    handler(req, res)
  })
  server.on('connection', (socket: Socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    requests,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
