/**
 * Baseline "intake floor": the least work per webhook that keeps intake's guarantees, in one
 * process on one thread (but 'logthread', whose builds have a thread of their own), written
 * straight against the libraries and the SQLite schema the gateway uses (its own migrations,
 * indexes and count triggers), to measure designs:
 * - FLOOR_INTAKE=records (this design, the default): X-Hub-Signature-256 checked over the raw
 *   bytes, JSON.parse, the gateway's webhook parser and row mapping; the 200 goes out once the
 *   webhook row and its media rows are committed (WAL, synchronous FULL), everything that arrived
 *   during one event-loop turn in one transaction.
 * - FLOOR_INTAKE=bulk (the cheaper record, issue 19): the same checks and parse; the 200 goes out
 *   once the webhook row (its body: what a restart would rebuild the media rows from) is
 *   committed. The media rows are built off the request path, every BULK_MS or BULK_MAX
 *   webhooks, in one transaction: sorted by their unique key, with the per-row count trigger
 *   dropped and one count delta per (platform, status) instead, and a mark of what is built.
 *   Its CPU is the same process's, so a sustained run counts it.
 * - FLOOR_INTAKE=log (the cheapest record): the same checks and parse; the 200 goes out once the
 *   body is appended to a log table keyed by an integer (no random key on the request path, as
 *   the durable node:http baseline writes). The webhook rows (their unique body hash) and the
 *   media rows are built off it as in 'bulk'.
 * - FLOOR_INTAKE=logthread (the cheapest record, built on another thread): the signature and
 *   JSON.parse on the request path (a 401 or a 400 answered as the gateway answers them), then the
 *   body appended to the log, in a file of its own, before the 200. A worker thread reads the log
 *   past its mark, parses each body with the gateway's parser and builds the webhook and media
 *   rows as in 'log' into the catalog file, with the mark in the same transaction: the same code
 *   in a sustained run and after a crash, and no build ever holds the loop that answers. Two files,
 *   so that a build's transaction never holds the log's write lock.
 * - FLOOR_INTAKE=narrow (fewer indexes at record time): as 'records', but a media row enters only
 *   the indexes a pending record needs (its keys, the claim's, expiry and the oldest pending); the
 *   listing and lookup indexes (status, platform, message, webhook, received, sender) are partial
 *   on `status <> 'pending'`, entered when a capture settles the record, which intake does not pay.
 * - FLOOR_INTAKE=parse (not a design: the bound under all of them): the same checks, parse and
 *   rows, then the 200, with nothing stored.
 * Lower bounds on all of them: no kysely, no logging, metrics, tracing or request ids, no thread hop.
 * 'bulk' and 'log' keep the parsed webhooks in memory for their builds; after a crash they would
 * parse the bodies past the mark again, which a sustained run never pays. Env: FLOOR_DB (a new file),
 * FLOOR_APP_SECRET, FLOOR_INTAKE; FLOOR_METER=1 writes the main thread's CPU by part to stderr
 * (the child's log) at stop.
 */
import { readFile } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Worker } from 'node:worker_threads'
import type { MediaTable } from '../../src/catalog/schema.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { verifySignature } from '../../src/platforms/signature.js'
import { serveParent } from '../lib/child-runtime.js'
import { BULK_MAX, BULK_MS, CHECKPOINT_MS, catalogWriter, openFloorDb } from './floor-intake-build.js'
import { meterClock, metered, metering, takeParts } from './floor-meter.js'
import { answerEmpty, type ParsedWebhook, parseSignedWebhook, webhookServer } from './floor-webhooks.js'

function env(name: string): string {
  const value = process.env[name]
  if (value === undefined) throw new Error(`floor-intake: ${name} is not set`)
  return value
}
const secrets = [env('FLOOR_APP_SECRET')]
const MODES = ['records', 'narrow', 'bulk', 'log', 'logthread', 'parse'] as const
const MODE = (process.env.FLOOR_INTAKE ?? 'records') as (typeof MODES)[number]
if (!MODES.includes(MODE)) throw new Error(`floor-intake: FLOOR_INTAKE must be ${MODES.join(', ')}, not ${MODE}`)
/** Whether the media rows are built off the request path, in bulk, on this thread. */
const BUILT_OFF_PATH = MODE === 'bulk' || MODE === 'log'
/** Whether the request path appends bodies to a log. */
const LOGGED = MODE === 'log' || MODE === 'logthread'

/** The media indexes a pending record does not need: 'narrow' enters them only once it is settled. */
const LISTING_INDEXES = ['media_status_id_idx', 'media_platform_id_idx', 'media_message_id_idx', 'media_webhook_id_idx', 'media_platform_received_idx', 'media_sender_id_idx', 'media_sender_user_id_idx']

const file = env('FLOOR_DB')
const migrated = new SqliteCatalog({ path: file })
await migrated.migrate()
await migrated.close()
/** 'logthread': the request path writes only the log, in its own file; the builder thread owns the catalog. */
const logFile = MODE === 'logthread' ? `${file}-log` : file
const db = openFloorDb(logFile)
const checkpoints = setInterval(() => metered(`checkpoint (PASSIVE, every ${CHECKPOINT_MS} ms)`, () => db.pragma('wal_checkpoint(PASSIVE)')), CHECKPOINT_MS)
if (MODE === 'narrow') {
  for (const name of LISTING_INDEXES) {
    const created = db.prepare("select sql from sqlite_master where type = 'index' and name = ?").pluck().get(name) as string | undefined
    if (created === undefined) throw new Error(`floor-intake: the schema has no index ${name}`)
    db.exec(`drop index ${name}`)
    db.exec(/ where /i.test(created) ? `${created} and status <> 'pending'` : `${created} where status <> 'pending'`)
  }
}
if (LOGGED) db.exec('create table floor_intake_log (id integer primary key, received_at integer not null, body blob not null)')
const writer = MODE === 'logthread' ? undefined : catalogWriter(db, BUILT_OFF_PATH)
const insertLog = LOGGED ? db.prepare('insert into floor_intake_log (received_at, body) values (?, ?)') : undefined
// Its own meter would read the process's clock, the main thread's included: off.
const builder = MODE === 'logthread' ? new Worker(new URL('./floor-intake-builder.js', import.meta.url), { workerData: { catalog: file, log: logFile }, env: { ...process.env, FLOOR_METER: '0' } }) : undefined
builder?.on('error', (err) => process.stderr.write(`floor-intake: builder: ${err.stack}\n`))
// Listened for from the start: a builder that failed early has exited before stop() asks it to drain.
const builderExit = builder && new Promise<number>((resolve) => builder.once('exit', resolve))

interface Received {
  res: ServerResponse
  body: Buffer
  receivedAt: number
  /** The rows, when this thread parsed them ('logthread' leaves them to its builder). */
  parsed: ParsedWebhook | undefined
}

/** Webhooks read during this event-loop turn, committed together at its end. */
let turn: Received[] = []
/** What the request path committed and the builder has not built yet ('bulk': media rows; 'log': webhooks and their media rows), and how far that goes. */
let unbuiltRows: MediaTable[] = []
let unbuiltWebhooks: ParsedWebhook[] = []
let committedUpTo = 0
let bulkTimer: NodeJS.Timeout | undefined

const commitTurn = db.transaction((batch: Received[]) => {
  for (const r of batch) {
    if (LOGGED) {
      committedUpTo = Number(insertLog!.run(r.receivedAt, r.body).lastInsertRowid)
      // Not the response: the builder needs the rows, and holding a thousand of those would feed the GC.
      if (r.parsed) unbuiltWebhooks.push(r.parsed)
      continue
    }
    const { webhook, rows } = r.parsed!
    const stored = writer!.storeWebhook(webhook)
    if (MODE === 'bulk' && stored.rowid > 0) committedUpTo = stored.rowid
    for (const row of rows) {
      row.webhook_id = stored.id
      if (!BUILT_OFF_PATH) writer!.insertMedia(row)
      else unbuiltRows.push(row)
    }
  }
})

const COMMITTED = { records: 'webhook and media rows', narrow: 'webhook and media rows', bulk: 'webhook rows', log: 'log rows', logthread: 'log rows', parse: 'nothing' }[MODE]

function flushTurn(): void {
  const batch = turn
  turn = []
  try {
    metered(`commit: ${COMMITTED}`, () => commitTurn(batch))
  } catch (err) {
    process.stderr.write(`floor-intake: commit: ${(err as Error).stack}\n`)
    for (const r of batch) answer(r.res, 500)
    return
  }
  for (const r of batch) answer(r.res, 200)
  if (BUILT_OFF_PATH) {
    if (unbuiltRows.length + unbuiltWebhooks.length >= BULK_MAX) buildNow()
    else bulkTimer ??= setTimeout(buildNow, BULK_MS)
  }
}

function buildNow(): void {
  clearTimeout(bulkTimer)
  bulkTimer = undefined
  const [webhooks, rows] = [unbuiltWebhooks, unbuiltRows]
  unbuiltWebhooks = []
  unbuiltRows = []
  metered(`build: ${MODE === 'log' ? 'webhook and ' : ''}media rows in bulk`, () => writer!.build(webhooks, rows, committedUpTo))
}

function receive(body: Buffer, signature: string | undefined, res: ServerResponse): void {
  let parsed: ParsedWebhook | undefined
  if (MODE === 'logthread') {
    if (!metered('signature', () => verifySignature(body, signature, secrets))) return answer(res, 401)
    try {
      metered('JSON.parse', () => JSON.parse(body.toString('utf8')))
    } catch {
      return answer(res, 400)
    }
  } else {
    const p = parseSignedWebhook(body, signature, secrets)
    if (p === undefined) return answer(res, 401)
    if (p === null || MODE === 'parse') return answer(res, 200)
    parsed = p
  }
  if (turn.length === 0) setImmediate(flushTurn)
  turn.push({ res, body, receivedAt: Date.now(), parsed })
}

let answered = 0
function answer(res: ServerResponse, status: number): void {
  answered++
  answerEmpty(res, status)
}

/** 'logthread': the builder builds what is left in the log, closes its files and exits. */
async function drainBuilder(thread: Worker, exited: Promise<number>): Promise<void> {
  thread.postMessage('drain')
  const code = await exited
  if (code !== 0) throw new Error(`floor-intake: the builder exited with ${code}`)
}

const server = webhookServer('floor-intake', receive)

serveParent<{ url: string }>({
  start: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))),
  async stop() {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    // What the builder had not reached yet, as a clean shutdown would build it.
    if (unbuiltRows.length + unbuiltWebhooks.length > 0) buildNow()
    if (builder && builderExit) await drainBuilder(builder, builderExit)
    clearInterval(checkpoints)
    db.close()
    if (metering) {
      // What the process wrote in all (WAL frames, checkpoints), against what it answered.
      const io = Object.fromEntries((await readFile('/proc/self/io', 'utf8')).trim().split('\n').map((l) => l.split(': ') as [string, string]))
      process.stderr.write(`floor-intake (${MODE}) wrote ${io.write_bytes} bytes to disk, ${io.syscw} write calls, for ${answered} answers\n`)
      process.stderr.write(`floor-intake (${MODE}) CPU by part of the main thread, clock of ${meterClock}: ${JSON.stringify(takeParts())}\n`)
    }
  },
})
