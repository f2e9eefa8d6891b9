/**
 * Baseline for intake, "durable bare": the bare node:http server (bare-http.ts) that also stores
 * each request body in SQLite before its 200, as durably as the gateway does (WAL,
 * synchronous = FULL: the commit is fsynced). No signature, no parsing, no second thread: what
 * durability alone costs a Node.js server on this machine and this disk.
 *
 * DURABLE_MODE=group (the default): the bodies read while the last commit ran are inserted in one
 * transaction, one fsync for all of them — the best a single SQLite writer does.
 * DURABLE_MODE=each: one transaction (one fsync) per request, the naive way.
 */
import { createServer, type ServerResponse } from 'node:http'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { serveHttpServer } from '../lib/child-runtime.js'

const dir = process.env.DURABLE_DIR
if (!dir) throw new Error('DURABLE_DIR is not set')
const db = new BetterSqlite3(path.join(dir, `durable-${process.pid}.sqlite`))
db.pragma('journal_mode = WAL')
db.pragma('synchronous = FULL')
db.exec('create table if not exists webhooks (id integer primary key, received_at integer not null, body blob not null)')
const insert = db.prepare('insert into webhooks (received_at, body) values (?, ?)')
const insertAll = db.transaction((bodies: Buffer[]) => {
  const now = Date.now()
  for (const body of bodies) insert.run(now, body)
})
const group = process.env.DURABLE_MODE !== 'each'

function ok(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': 15 })
  res.end('{"received":1}\n')
}

let bodies: Buffer[] = []
let replies: ServerResponse[] = []
function flush(): void {
  const b = bodies
  const r = replies
  bodies = []
  replies = []
  insertAll(b)
  for (const res of r) ok(res)
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    if (!group) {
      insertAll([body])
      return ok(res)
    }
    // The commit blocks this thread, so requests pile up meanwhile and form the next group.
    if (bodies.length === 0) setImmediate(flush)
    bodies.push(body)
    replies.push(res)
  })
})

serveHttpServer(server)
