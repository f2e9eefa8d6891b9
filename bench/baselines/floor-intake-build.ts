/**
 * The intake floors' catalog side, shared by floor-intake.ts and its builder thread
 * (floor-intake-builder.ts): a SQLite file opened as the gateway's writer opens it, the webhook
 * and media inserts, and the build of media rows off the request path, in bulk.
 */
import BetterSqlite3 from 'better-sqlite3'
import type { MediaTable, WebhooksTable } from '../../src/catalog/schema.js'
import { insertSql, type ParsedWebhook, WEBHOOK_COLUMNS } from './floor-webhooks.js'

/** A build runs this long after the first unbuilt webhook (the builder thread: this often), or at once past BULK_MAX of them. */
export const BULK_MS = 50
export const BULK_MAX = 1000
/** The gateway's checkpointer thread runs a PASSIVE checkpoint this often (sqlite-checkpointer.ts). */
export const CHECKPOINT_MS = 250

/**
 * The gateway writer's pragmas (sqlite-catalog.ts), with SQLite's own checkpoints off: left to
 * SQLite, one would run inside whichever commit crossed the threshold and be counted as that
 * commit's; the caller runs them every CHECKPOINT_MS, as the gateway does.
 */
export function openFloorDb(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('temp_store = MEMORY')
  db.pragma('foreign_keys = ON')
  db.pragma('wal_autocheckpoint = 0')
  return db
}

export interface CatalogWriter {
  /** Inserts the webhook row, or finds the first copy of a redelivered body: the id its media point at, and the new row's rowid (0 for a copy). */
  storeWebhook(webhook: WebhooksTable): { id: string; rowid: number }
  insertMedia(row: MediaTable): BetterSqlite3.RunResult
  /**
   * In one transaction: the webhook rows of `webhooks` and their media rows with `rows`, sorted
   * by their unique keys, one count delta per (platform, status) instead of a trigger per row,
   * and the mark of how far the build got (`upTo`).
   */
  build(webhooks: ParsedWebhook[], rows: MediaTable[], upTo: number): void
  /** The mark the last build left: a restart builds what was committed past it. */
  builtUpTo(): number
}

/** Statements on a migrated catalog; `builtOffPath` drops the per-row count trigger and keeps a build mark, for `build`. */
export function catalogWriter(db: BetterSqlite3.Database, builtOffPath: boolean): CatalogWriter {
  if (builtOffPath && db.prepare("select 1 from sqlite_master where name = 'floor_built'").get() === undefined) {
    db.exec('drop trigger media_counts_insert')
    db.exec('create table floor_built (id integer primary key check (id = 1), up_to integer not null)')
    db.exec('insert into floor_built (id, up_to) values (1, 0)')
  }
  const insertWebhook = db.prepare(insertSql('webhooks', WEBHOOK_COLUMNS, 'body_sha256'))
  const webhookBySha = db.prepare('select id from webhooks where body_sha256 = ?').pluck()
  let insertMediaStatement: BetterSqlite3.Statement | undefined
  const addDelta = db.prepare('insert into media_count_deltas (platform, status, delta) values (?, ?, ?)')
  const mark = builtOffPath ? db.prepare('update floor_built set up_to = ? where id = 1') : undefined
  const markRead = builtOffPath ? db.prepare('select up_to from floor_built where id = 1').pluck() : undefined

  function storeWebhook(webhook: WebhooksTable): { id: string; rowid: number } {
    const inserted = insertWebhook.run(...WEBHOOK_COLUMNS.map((c) => webhook[c]))
    return inserted.changes > 0 ? { id: webhook.id, rowid: Number(inserted.lastInsertRowid) } : { id: webhookBySha.get(webhook.body_sha256) as string, rowid: 0 }
  }
  function insertMedia(row: MediaTable): BetterSqlite3.RunResult {
    const columns = Object.keys(row) as (keyof MediaTable)[]
    insertMediaStatement ??= db.prepare(insertSql('media', columns, 'platform, message_id, attachment_index'))
    return insertMediaStatement.run(...columns.map((c) => row[c]))
  }
  const byUniqueKey = (a: MediaTable, b: MediaTable) =>
    a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : a.attachment_index - b.attachment_index
  const build = db.transaction((webhooks: ParsedWebhook[], rows: MediaTable[], upTo: number) => {
    if (mark === undefined) throw new Error('floor-intake: build on a writer opened without builtOffPath')
    webhooks.sort((a, b) => (a.webhook.body_sha256 < b.webhook.body_sha256 ? -1 : 1))
    for (const w of webhooks) {
      const webhookId = storeWebhook(w.webhook).id
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
    mark.run(upTo)
  })
  return { storeWebhook, insertMedia, build, builtUpTo: () => (markRead?.get() as number | undefined) ?? 0 }
}
