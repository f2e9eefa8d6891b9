/**
 * Baseline for intake: a bare node:http server that reads the request body and answers 200 —
 * the ceiling of any Node.js server on this machine, with no parsing, checking or storage.
 */
import { createServer } from 'node:http'
import { serveHttpServer } from '../lib/child-runtime.js'

const server = createServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 15 })
    res.end('{"received":1}\n')
  })
})

serveHttpServer(server)
