/**
 * Baseline for serving: a bare node:http server that pipes fs.createReadStream of a file, whole
 * or one `Range: bytes=a-b` — what the content route costs minus auth, catalog and headers.
 * BENCH_FILES maps request paths to files, e.g. {"/image": "/tmp/…/sha256/ab/cd/abcd…"}.
 */
import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { serveHttpServer } from '../lib/child-runtime.js'

const files = new Map(Object.entries(JSON.parse(process.env.BENCH_FILES ?? '{}') as Record<string, string>).map(([p, f]) => [p, { file: f, size: statSync(f).size }]))

const server = createServer((req, res) => {
  const target = files.get(req.url ?? '')
  if (!target) {
    res.writeHead(404, { 'content-length': 0 })
    return void res.end()
  }
  const { file, size } = target
  const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
  if (match) {
    const start = Number(match[1])
    const end = Math.min(size - 1, Number(match[2]))
    res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` })
    createReadStream(file, { start, end }).pipe(res)
    return
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
  createReadStream(file).pipe(res)
})

serveHttpServer(server)
