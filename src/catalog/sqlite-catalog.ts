/**
 * The embedded catalog: one SQLite file through better-sqlite3.
 *
 * Durability: WAL with `synchronous = FULL`, so a committed (acknowledged) webhook survives a
 * power cut, not only a crash of the process. Several processes may open the same file (a CLI
 * beside the server): every write transaction starts with `BEGIN IMMEDIATE`, taking the write
 * lock before reading, and waits up to `busyTimeoutMs` for another process to finish. Plans run
 * synchronously, so nothing else in this process interleaves with an open transaction.
 */
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { type CompiledQuery, sql } from 'kysely'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { ClaimOptions } from './catalog.js'
import { missingCatalog, type OpenAccess } from './catalog-access.js'
import { toCatalogError } from './catalog-errors.js'
import { sqliteClaimQuery } from './claim-queries.js'
import { KyselyCatalog } from './kysely-catalog.js'
import { driveSync, isCountedQuery, type Plan, type PlanMode, type Row } from './plan.js'
import { sqlDialect } from './sql-dialect.js'

export interface SqliteCatalogOptions {
  /** File path, or `:memory:` (one connection only; for throwaway use). */
  path: string
  /** How long to wait for another process's write lock; default 5000 ms. */
  busyTimeoutMs?: number
  /**
   * WAL pages after which a commit also checkpoints (SQLite's default is 1,000). The gateway
   * raises it because a background thread checkpoints instead (sqlite-checkpointer.ts).
   */
  walAutocheckpointPages?: number
  /** Default `create`. `write` and `read` need the file to exist; `read` opens it read-only. */
  access?: OpenAccess
  logger?: Logger
}

/** Prepared statements kept per connection; queries with long `IN` lists vary, so it is bounded. */
const STATEMENT_CACHE_SIZE = 200

export class SqliteCatalog extends KyselyCatalog {
  readonly dialect = 'sqlite' as const
  protected readonly sqlDialect = sqlDialect('sqlite')
  readonly path: string
  private readonly db: BetterSqlite3.Database
  private readonly statements = new Map<string, BetterSqlite3.Statement>()
  private readonly inTransaction: BetterSqlite3.Transaction<(fn: () => unknown) => unknown>

  /**
   * Opens (creating the file and its directory if needed, unless `access` says the catalog must
   * exist); throws `invalid_config` if it cannot, `not_found` for a missing file it may not create.
   */
  constructor(options: SqliteCatalogOptions) {
    super()
    this.path = options.path
    const access = options.access ?? 'create'
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000
    const memory = options.path === ':memory:'
    // Checked before opening so nothing is created: better-sqlite3's fileMustExist alone would
    // still leave the directory we made, and its message does not say what to do.
    if (access !== 'create' && (memory || !existsSync(options.path))) throw missingCatalog(options.path)
    try {
      if (access === 'create' && !memory) mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true })
      this.db = new BetterSqlite3(options.path, { timeout: busyTimeoutMs, readonly: access === 'read', fileMustExist: access !== 'create' })
      // A reader changes nothing, the journal mode included (it stays what the writers set).
      if (access !== 'read') {
        this.db.pragma('journal_mode = WAL')
        this.db.pragma('synchronous = FULL')
        // A statement that fires triggers (the media counts of migration 12) keeps a statement
        // journal; in a temporary file, each of its pages is a write(2): about 39 per media insert,
        // which doubled the catalog's CPU per record. In memory it costs a page copy. Only the
        // statement's own pages go there, so its size is bounded by one statement's work.
        this.db.pragma('temp_store = MEMORY')
      }
      this.db.pragma('foreign_keys = ON')
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`)
      if (options.walAutocheckpointPages !== undefined) this.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(options.walAutocheckpointPages))}`)
    } catch (err) {
      throw new MediagateError('invalid_config', `cannot open the SQLite catalog at ${options.path}: ${(err as Error).message}`, { cause: err })
    }
    this.inTransaction = this.db.transaction((fn: () => unknown) => fn())
  }

  /** The effective value of a PRAGMA (journal_mode, synchronous, …), for checks and tests. */
  pragma(name: string): unknown {
    return this.db.pragma(name, { simple: true })
  }

  /** SQLite has no server whose settings could undo what the catalog expects. */
  async serverWarnings(): Promise<string[]> {
    return []
  }

  async ping(): Promise<void> {
    try {
      this.db.prepare('select 1').get()
    } catch (err) {
      throw this.toError(err)
    }
  }

  async close(): Promise<void> {
    this.statements.clear()
    if (this.db.open) this.db.close()
  }

  protected async run<T>(plan: Plan<T>, mode: PlanMode): Promise<T> {
    const drive = () => driveSync(plan, (query) => this.execute(query))
    return mode === 'transaction' ? (this.inTransaction.immediate(drive) as T) : drive()
  }

  protected claimQuery(options: ClaimOptions, now: number): CompiledQuery {
    return sqliteClaimQuery(this.sqlDialect, options, now)
  }

  protected migrationPrologue(): CompiledQuery[] {
    return []
  }

  protected migrationsTableQuery(): CompiledQuery {
    return sql`select name from sqlite_master where type = 'table' and name = 'mediagate_migrations'`.compile(this.sqlDialect.qb)
  }

  protected toError(err: unknown): MediagateError {
    return toCatalogError(err, 'sqlite', [])
  }

  private execute(query: CompiledQuery): Row[] {
    const statement = this.prepare(query.sql)
    const parameters = query.parameters as unknown[]
    if (statement.reader) return statement.all(...parameters) as Row[]
    const info = statement.run(...parameters)
    return isCountedQuery(query) ? [{ changes: info.changes }] : []
  }

  private prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!)
      this.statements.set(sql, statement)
    }
    return statement
  }
}
