/**
 * The builder thread of the intake floor's 'logthread' design (floor-intake.ts): every BULK_MS it
 * reads the log's bodies past its mark, parses each with the gateway's parser and builds their
 * webhook and media rows into the catalog in one transaction with the new mark, BULK_MAX bodies
 * at a time. A restart would run the same code from the mark. On 'drain' it builds what is left,
 * closes its files and exits.
 */
import { parentPort, workerData } from 'node:worker_threads'
import BetterSqlite3 from 'better-sqlite3'
import { BULK_MAX, BULK_MS, CHECKPOINT_MS, catalogWriter, openFloorDb } from './floor-intake-build.js'
import { type ParsedWebhook, webhookRows } from './floor-webhooks.js'

const { catalog, log } = workerData as { catalog: string; log: string }
if (!parentPort) throw new Error('floor-intake-builder: not a worker thread')
const port = parentPort

const db = openFloorDb(catalog)
const writer = catalogWriter(db, true)
const logDb = new BetterSqlite3(log, { readonly: true })
const past = logDb.prepare('select id, received_at, body from floor_intake_log where id > ? order by id limit ?')
let upTo = writer.builtUpTo()

/** One build of up to BULK_MAX logged bodies; how many it read. */
function buildOnce(): number {
  const entries = past.all(upTo, BULK_MAX) as { id: number; received_at: number; body: Buffer }[]
  if (entries.length === 0) return 0
  const webhooks: ParsedWebhook[] = []
  for (const e of entries) {
    // The request path checked that it parses.
    const parsed = webhookRows(e.body, JSON.parse(e.body.toString('utf8')), new Date(e.received_at))
    if (parsed) webhooks.push(parsed)
  }
  upTo = entries.at(-1)!.id
  writer.build(webhooks, [], upTo)
  return entries.length
}

function buildAll(): void {
  while (buildOnce() === BULK_MAX) {}
}

const checkpoints = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), CHECKPOINT_MS)
const builds = setInterval(buildAll, BULK_MS)
port.on('message', (message) => {
  if (message !== 'drain') return
  clearInterval(builds)
  clearInterval(checkpoints)
  while (buildOnce() > 0) {}
  logDb.close()
  db.close()
  port.close()
})
