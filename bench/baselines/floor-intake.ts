/**
 * Baseline "intake floor": the least work per webhook that keeps intake's guarantees, in one
 * process with no worker threads, written straight against the libraries and the SQLite schema
 * the gateway uses (its own migrations, indexes and count triggers), to measure three designs:
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
 * - FLOOR_INTAKE=narrow (fewer indexes at record time): as 'records', but a media row enters only
 *   the indexes a pending record needs (its keys, the claim's, expiry and the oldest pending); the
 *   listing and lookup indexes (status, platform, message, webhook, received, sender) are partial
 *   on `status <> 'pending'`, entered when a capture settles the record, which intake does not pay.
 * - FLOOR_INTAKE=parse (not a design: the bound under all of them): the same checks, parse and
 *   rows, then the 200, with nothing stored.
 * Lower bounds on all of them: no kysely, no logging, metrics, tracing or request ids, no thread hop.
 * The builder keeps the parsed webhooks in memory; after a crash it would parse the bodies past
 * the mark again, which a sustained run never pays. Env: FLOOR_DB (a new file),
 * FLOOR_APP_SECRET, FLOOR_INTAKE; FLOOR_METER=1 writes the main thread's CPU by part to stderr
 * (the child's log) at stop.
 */
import { readFile } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import BetterSqlite3 from 'better-sqlite3'
import type { MediaTable, WebhooksTable } from '../../src/catalog/schema.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { serveParent } from '../lib/child-runtime.js'
import { meterClock, metered, metering, takeParts } from './floor-meter.js'
import { answerEmpty, insertSql, type ParsedWebhook, parseSignedWebhook, WEBHOOK_COLUMNS, webhookServer } from './floor-webhooks.js'

function env(name: string): string {
  const value = process.env[name]
  if (value === undefined) throw new Error(`floor-intake: ${name} is not set`)
  return value
}
const secrets = [env('FLOOR_APP_SECRET')]
const MODES = ['records', 'narrow', 'bulk', 'log', 'parse'] as const
const MODE = (process.env.FLOOR_INTAKE ?? 'records') as (typeof MODES)[number]
if (!MODES.includes(MODE)) throw new Error(`floor-intake: FLOOR_INTAKE must be ${MODES.join(', ')}, not ${MODE}`)
/** Whether the media rows are built off the request path, in bulk. */
const BUILT_OFF_PATH = MODE === 'bulk' || MODE === 'log'
const BULK_MS = 50
const BULK_MAX = 1000

/** The media indexes a pending record does not need: 'narrow' enters them only once it is settled. */
const LISTING_INDEXES = ['media_status_id_idx', 'media_platform_id_idx', 'media_message_id_idx', 'media_webhook_id_idx', 'media_platform_received_idx', 'media_sender_id_idx', 'media_sender_user_id_idx']

const file = env('FLOOR_DB')
const migrated = new SqliteCatalog({ path: file })
await migrated.migrate()
await migrated.close()
const db = new BetterSqlite3(file)
// The gateway writer's pragmas (sqlite-catalog.ts). The gateway's checkpointer thread runs a
// PASSIVE checkpoint every 250 ms (sqlite-checkpointer.ts); here the same runs on the event loop,
// metered apart: left to SQLite, it would run inside whichever commit crossed the threshold and
// be counted as that commit's.
db.pragma('journal_mode = WAL')
db.pragma('synchronous = FULL')
db.pragma('temp_store = MEMORY')
db.pragma('foreign_keys = ON')
db.pragma('wal_autocheckpoint = 0')
const checkpoints = setInterval(() => metered('checkpoint (PASSIVE, every 250 ms)', () => db.pragma('wal_checkpoint(PASSIVE)')), 250)
if (MODE === 'narrow') {
  for (const name of LISTING_INDEXES) {
    const created = db.prepare("select sql from sqlite_master where type = 'index' and name = ?").pluck().get(name) as string | undefined
    if (created === undefined) throw new Error(`floor-intake: the schema has no index ${name}`)
    db.exec(`drop index ${name}`)
    db.exec(/ where /i.test(created) ? `${created} and status <> 'pending'` : `${created} where status <> 'pending'`)
  }
}
if (BUILT_OFF_PATH) {
  db.exec('drop trigger media_counts_insert')
  // How far the builder got: a restart builds what the request path committed past it.
  db.exec('create table floor_built (id integer primary key check (id = 1), up_to integer not null)')
  db.exec('insert into floor_built (id, up_to) values (1, 0)')
}
if (MODE === 'log') db.exec('create table floor_intake_log (id integer primary key, received_at integer not null, body blob not null)')

const insertWebhook = db.prepare(insertSql('webhooks', WEBHOOK_COLUMNS, 'body_sha256'))
const webhookBySha = db.prepare('select id from webhooks where body_sha256 = ?').pluck()
const insertLog = MODE === 'log' ? db.prepare('insert into floor_intake_log (received_at, body) values (?, ?)') : undefined
let insertMediaStatement: BetterSqlite3.Statement | undefined
function insertMedia(row: MediaTable): BetterSqlite3.RunResult {
  const columns = Object.keys(row) as (keyof MediaTable)[]
  insertMediaStatement ??= db.prepare(insertSql('media', columns, 'platform, message_id, attachment_index'))
  return insertMediaStatement.run(...columns.map((c) => row[c]))
}
const addDelta = db.prepare('insert into media_count_deltas (platform, status, delta) values (?, ?, ?)')
const mark = !BUILT_OFF_PATH ? undefined : db.prepare('update floor_built set up_to = ? where id = 1')

interface Received extends ParsedWebhook {
  res: ServerResponse
}

/** Webhooks read during this event-loop turn, committed together at its end. */
let turn: Received[] = []
/** What the request path committed and the builder has not built yet ('bulk': media rows; 'log': webhooks and their media rows), and how far that goes. */
let unbuiltRows: MediaTable[] = []
let unbuiltWebhooks: ParsedWebhook[] = []
let committedUpTo = 0
let bulkTimer: NodeJS.Timeout | undefined

/** Inserts the webhook row, or finds the first copy of a redelivered body; gives the id its media point at. */
function storeWebhook(webhook: WebhooksTable): string {
  const inserted = insertWebhook.run(...WEBHOOK_COLUMNS.map((c) => webhook[c]))
  if (MODE === 'bulk' && inserted.changes > 0) committedUpTo = Number(inserted.lastInsertRowid)
  return inserted.changes > 0 ? webhook.id : (webhookBySha.get(webhook.body_sha256) as string)
}

const commitTurn = db.transaction((batch: Received[]) => {
  for (const r of batch) {
    if (MODE === 'log') {
      committedUpTo = Number(insertLog!.run(r.webhook.received_at, r.webhook.body).lastInsertRowid)
      // Not the response: the builder needs the rows, and holding a thousand of those would feed the GC.
      unbuiltWebhooks.push({ webhook: r.webhook, rows: r.rows })
      continue
    }
    const webhookId = storeWebhook(r.webhook)
    for (const row of r.rows) {
      row.webhook_id = webhookId
      if (!BUILT_OFF_PATH) insertMedia(row)
      else unbuiltRows.push(row)
    }
  }
})

const byUniqueKey = (a: MediaTable, b: MediaTable) =>
  a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : a.attachment_index - b.attachment_index

const build = db.transaction((webhooks: ParsedWebhook[], rows: MediaTable[], upTo: number) => {
  webhooks.sort((a, b) => (a.webhook.body_sha256 < b.webhook.body_sha256 ? -1 : 1))
  for (const w of webhooks) {
    const webhookId = storeWebhook(w.webhook)
    for (const row of w.rows) {
      row.webhook_id = webhookId
      rows.push(row)
    }
  }
  rows.sort(byUniqueKey)
  const deltas = new Map<string, number>()
  for (const row of rows) {
    if (insertMedia(row).changes === 0) continue
    const key = `${row.platform}\n${row.status}`
    deltas.set(key, (deltas.get(key) ?? 0) + 1)
  }
  for (const [key, delta] of deltas) {
    const [platform, status] = key.split('\n')
    addDelta.run(platform, status, delta)
  }
  mark!.run(upTo)
})

function flushTurn(): void {
  const batch = turn
  turn = []
  try {
    metered(`commit: ${{ records: 'webhook and media rows', narrow: 'webhook and media rows', bulk: 'webhook rows', log: 'log rows', parse: 'nothing' }[MODE]}`, () => commitTurn(batch))
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
  metered(`build: ${MODE === 'log' ? 'webhook and ' : ''}media rows in bulk`, () => build(webhooks, rows, committedUpTo))
}

function receive(body: Buffer, signature: string | undefined, res: ServerResponse): void {
  const parsed = parseSignedWebhook(body, signature, secrets)
  if (parsed === undefined) return answer(res, 401)
  if (parsed === null || MODE === 'parse') return answer(res, 200)
  if (turn.length === 0) setImmediate(flushTurn)
  turn.push({ ...parsed, res })
}

let answered = 0
function answer(res: ServerResponse, status: number): void {
  answered++
  answerEmpty(res, status)
}

const server = webhookServer('floor-intake', receive)

serveParent<{ url: string }>({
  start: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))),
  async stop() {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    // What the builder had not reached yet, as a clean shutdown would build it.
    if (unbuiltRows.length + unbuiltWebhooks.length > 0) buildNow()
    clearInterval(checkpoints)
    db.close()
    if (metering) {
      // What the process wrote in all (WAL frames, checkpoints), against what it answered.
      const io = Object.fromEntries((await readFile('/proc/self/io', 'utf8')).trim().split('\n').map((l) => l.split(': ') as [string, string]))
      process.stderr.write(`floor-intake (${MODE}) wrote ${io.write_bytes} bytes to disk, ${io.syscw} write calls, for ${answered} answers\n`)
      process.stderr.write(`floor-intake (${MODE}) CPU by part, clock of ${meterClock}: ${JSON.stringify(takeParts())}\n`)
    }
  },
})
