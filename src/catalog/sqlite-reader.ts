/**
 * `get` of the threaded SQLite catalog, answered on the calling thread. In WAL mode a reader
 * never waits for the writer, so looking up one record by its primary key (tens of
 * microseconds) need not queue behind commits on the SQLite thread, nor pay a structured clone
 * each way; the content route does it for every request.
 *
 * The connection is query-only and never waits for a lock (busy timeout 0). Whenever it cannot
 * answer — the file or the schema does not exist yet, a lock, anything — it says so, and the
 * caller asks the SQLite thread, which gives the canonical answer or error.
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
  private closed = false

  constructor(private readonly path: string) {}

  get(id: string): MediaRecord | undefined | typeof UNANSWERED {
    const statement = this.prepared()
    if (!statement) return UNANSWERED
    try {
      // The statement is getQuery's SQL, so a row is a whole media row.
      const row = statement.get(id) as MediaRow | undefined
      return row ? rowToMedia(row) : undefined
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
      this.statement = this.db.prepare(query.sql)
    } catch {
      // Not created or not migrated yet: the thread answers until this works.
      return undefined
    }
    return this.statement
  }
}
