/**
 * `get` of the threaded SQLite catalog, answered on the calling thread. In WAL mode a reader
 * never waits for the writer, so looking up one record by its primary key (tens of
 * microseconds) need not queue behind commits on the SQLite thread, nor pay a structured clone
 * each way; the content route does it for every request.
 *
 * The connection is query-only and never waits for a lock (busy timeout 0). Whenever it cannot
 * answer — the file or the schema does not exist yet, a lock, anything — it says so, and the
 * caller asks the SQLite thread, which gives the canonical answer or error.
 *
 * The row comes back as an array (better-sqlite3's raw mode) and is made a MediaRow here: with
 * its 59 columns, better-sqlite3's own row object is built property by property from C++, which
 * turns it into a dictionary-mode object, and building and reading that cost about as much as
 * the query (callgrind of the content route: half of the instructions of `get`).
 */
import BetterSqlite3 from 'better-sqlite3'
import type { MediaRecord } from '../media/record.js'
import { getQuery } from './media-plans.js'
import { rowToMedia } from './row-mapping.js'
import { sqlDialect } from './sql-dialect.js'
import type { MediaRow } from './schema.js'

export const UNANSWERED = Symbol('unanswered')

export class SqliteReader {
  private db: BetterSqlite3.Database | undefined
  private statement: BetterSqlite3.Statement | undefined
  /** Where each column is in the statement's raw rows. */
  private at: ColumnIndex | undefined
  private closed = false

  constructor(private readonly path: string) {}

  get(id: string): MediaRecord | undefined | typeof UNANSWERED {
    const statement = this.prepared()
    if (!statement) return UNANSWERED
    try {
      // The statement is getQuery's SQL, so a row is a whole media row.
      const values = statement.get(id) as unknown[] | undefined
      return values ? rowToMedia(rowOf(values, this.at!)) : undefined
    } catch {
      return UNANSWERED
    }
  }

  close(): void {
    this.closed = true
    this.statement = undefined
    if (this.db?.open) this.db.close()
    this.db = undefined
  }

  private prepared(): BetterSqlite3.Statement | undefined {
    if (this.statement || this.closed) return this.statement
    try {
      this.db ??= new BetterSqlite3(this.path, { fileMustExist: true, timeout: 0 })
      this.db.pragma('query_only = ON')
      const query = getQuery(sqlDialect('sqlite'), 'placeholder')
      if (query.parameters.length !== 1) return undefined
      const statement = this.db.prepare(query.sql).raw(true)
      const at = columnIndex(statement.columns().map((c) => c.name))
      // A schema without a column the row needs: the thread answers (and migrates).
      if (!at) return undefined
      this.at = at
      this.statement = statement
    } catch {
      // Not created or not migrated yet: the thread answers until this works.
      return undefined
    }
    return this.statement
  }
}

type ColumnIndex = Record<keyof MediaRow, number>

/** A raw row as the MediaRow rowToMedia reads: an object literal, so V8 gives it one fixed shape. */
function rowOf(v: readonly unknown[], at: ColumnIndex): MediaRow {
  return {
    id: v[at.id] as MediaRow['id'],
    platform: v[at.platform] as MediaRow['platform'],
    account_id: v[at.account_id] as MediaRow['account_id'],
    message_id: v[at.message_id] as MediaRow['message_id'],
    attachment_index: v[at.attachment_index] as MediaRow['attachment_index'],
    sender_id: v[at.sender_id] as MediaRow['sender_id'],
    direction: v[at.direction] as MediaRow['direction'],
    kind: v[at.kind] as MediaRow['kind'],
    source_type: v[at.source_type] as MediaRow['source_type'],
    source_media_id: v[at.source_media_id] as MediaRow['source_media_id'],
    source_url: v[at.source_url] as MediaRow['source_url'],
    source_expires_at: v[at.source_expires_at] as MediaRow['source_expires_at'],
    declared_mime: v[at.declared_mime] as MediaRow['declared_mime'],
    declared_sha256: v[at.declared_sha256] as MediaRow['declared_sha256'],
    declared_size: v[at.declared_size] as MediaRow['declared_size'],
    filename: v[at.filename] as MediaRow['filename'],
    caption: v[at.caption] as MediaRow['caption'],
    voice: v[at.voice] as MediaRow['voice'],
    animated: v[at.animated] as MediaRow['animated'],
    sent_at: v[at.sent_at] as MediaRow['sent_at'],
    status: v[at.status] as MediaRow['status'],
    webhook_id: v[at.webhook_id] as MediaRow['webhook_id'],
    sha256: v[at.sha256] as MediaRow['sha256'],
    size: v[at.size] as MediaRow['size'],
    sniffed_mime: v[at.sniffed_mime] as MediaRow['sniffed_mime'],
    mime_type: v[at.mime_type] as MediaRow['mime_type'],
    blob_key: v[at.blob_key] as MediaRow['blob_key'],
    attempts: v[at.attempts] as MediaRow['attempts'],
    unfinished: v[at.unfinished] as MediaRow['unfinished'],
    next_attempt_at: v[at.next_attempt_at] as MediaRow['next_attempt_at'],
    lease_owner: v[at.lease_owner] as MediaRow['lease_owner'],
    lease_expires_at: v[at.lease_expires_at] as MediaRow['lease_expires_at'],
    error_code: v[at.error_code] as MediaRow['error_code'],
    error_message: v[at.error_message] as MediaRow['error_message'],
    error_vendor_code: v[at.error_vendor_code] as MediaRow['error_vendor_code'],
    received_at: v[at.received_at] as MediaRow['received_at'],
    stored_at: v[at.stored_at] as MediaRow['stored_at'],
    updated_at: v[at.updated_at] as MediaRow['updated_at'],
    policy: v[at.policy] as MediaRow['policy'],
    deleted_at: v[at.deleted_at] as MediaRow['deleted_at'],
    blob_lease_key: v[at.blob_lease_key] as MediaRow['blob_lease_key'],
    sender_user_id: v[at.sender_user_id] as MediaRow['sender_user_id'],
    ig_post_media_id: v[at.ig_post_media_id] as MediaRow['ig_post_media_id'],
    title: v[at.title] as MediaRow['title'],
    refetched_at: v[at.refetched_at] as MediaRow['refetched_at'],
    deadline_order: v[at.deadline_order] as MediaRow['deadline_order'],
    width: v[at.width] as MediaRow['width'],
    height: v[at.height] as MediaRow['height'],
    duration_ms: v[at.duration_ms] as MediaRow['duration_ms'],
    waveform: v[at.waveform] as MediaRow['waveform'],
    placeholder: v[at.placeholder] as MediaRow['placeholder'],
    derive_status: v[at.derive_status] as MediaRow['derive_status'],
    derive_error: v[at.derive_error] as MediaRow['derive_error'],
    scan_status: v[at.scan_status] as MediaRow['scan_status'],
    scan_engine: v[at.scan_engine] as MediaRow['scan_engine'],
    scanned_at: v[at.scanned_at] as MediaRow['scanned_at'],
    scan_signature: v[at.scan_signature] as MediaRow['scan_signature'],
    scan_released_at: v[at.scan_released_at] as MediaRow['scan_released_at'],
    trace_parent: v[at.trace_parent] as MediaRow['trace_parent'],
  }
}

const ROW_COLUMNS = Object.keys(rowOf([], {} as ColumnIndex)) as (keyof MediaRow)[]

function columnIndex(names: readonly string[]): ColumnIndex | undefined {
  const at: Partial<Record<string, number>> = {}
  names.forEach((name, i) => (at[name] = i))
  return ROW_COLUMNS.every((c) => at[c] !== undefined) ? (at as ColumnIndex) : undefined
}
