/**
 * Baseline for intake: a bare node:http server that reads the request body and answers 200 —
 * the ceiling of any Node.js server on this machine, with no parsing, checking or storage.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serveParent } from '../lib/child-runtime.js'

const server = createServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 15 })
    res.end('{"received":1}\n')
  })
})

serveParent<{ url: string }>({
  start: () =>
    new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
    }),
  stop: () =>
    new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
})
