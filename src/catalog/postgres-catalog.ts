/**
 * The scale-out catalog: PostgreSQL through a pg connection pool. Several gateways share it;
 * claims use `FOR UPDATE SKIP LOCKED`, and migrations hold an advisory lock so processes that
 * start together migrate one after the other. A `schema` puts every table in that schema (via
 * the connection's search_path), which is how tests get a fresh database each.
 */
import { createHash } from 'node:crypto'
import { type CompiledQuery, sql } from 'kysely'
import pg from 'pg'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { BlobLease, BlobLeaseAnswer, ClaimOptions, Settlement } from './catalog.js'
import { POSTGRES_SCHEMA_NAME } from './database-url.js'
import { serverCatalogClock } from './catalog-clock.js'
import { toCatalogError } from './catalog-errors.js'
import { postgresClaimQuery } from './claim-queries.js'
import { StatementNames } from './postgres-statement-names.js'
import { postgresLeaseBlobsPlan, postgresSettleGroupPlan } from './postgres-group-plans.js'
import { KyselyCatalog } from './kysely-catalog.js'
import { driveAsync, isCountedQuery, isFinalQuery, type Plan, type PlanMode, type Row } from './plan.js'
import { sqlDialect } from './sql-dialect.js'

export interface PostgresCatalogOptions {
  /** `postgres://user:password@host:port/database`; the password never appears in errors. */
  connectionString: string
  /** Schema for all tables (created by `migrate` if missing); default: the server's search_path. */
  schema?: string
  /** Connections in the pool; default 10. */
  poolSize?: number
  /** How long to wait for a connection before failing with `catalog`; default 10 s. */
  connectionTimeoutMs?: number
  /** Every transaction read-only (`mediagate` commands that only read): the server refuses writes. */
  readOnly?: boolean
  /**
   * Statements prepared once per connection (postgres-statement-names.ts); default true. False
   * behind a pooler that cannot keep prepared statements per client (PgBouncer before 1.21, or
   * without `max_prepared_statements`, in transaction mode): every statement is parsed and planned again.
   */
  preparedStatements?: boolean
  /** This process's clock, measured against the server's (catalog-clock.ts); tests skew it. Default Date.now. */
  localClock?: () => number
  logger?: Logger
}

const INT8_OID = 20

/** bigint columns hold epoch milliseconds and sizes, and count(*) is a bigint: all fit a double. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
}

export class PostgresCatalog extends KyselyCatalog {
  readonly dialect = 'postgres' as const
  protected readonly sqlDialect = sqlDialect('postgres')
  readonly schema: string | undefined
  private readonly pool: pg.Pool
  /** Prepared once per connection (postgres-statement-names.ts). */
  private readonly statementNames: StatementNames
  private readonly secrets: string[]
  private closed = false

  /** Creates the pool; connections are made on first use, so a down server fails later as `catalog`. */
  constructor(options: PostgresCatalogOptions) {
    super()
    const password = passwordOf(options.connectionString)
    this.secrets = password ? [password] : []
    if (options.schema !== undefined && !POSTGRES_SCHEMA_NAME.test(options.schema)) {
      throw new MediagateError('invalid_config', `PostgreSQL schema "${options.schema}" must match ${POSTGRES_SCHEMA_NAME.source}`)
    }
    const poolSize = options.poolSize ?? 10
    this.statementNames = new StatementNames(options.preparedStatements === false ? 0 : undefined)
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
      throw new MediagateError('invalid_config', `PostgreSQL pool size must be a whole number from 1 to 1000, got ${poolSize}`)
    }
    this.schema = options.schema
    const settings = [options.schema && `-c search_path=${options.schema}`, options.readOnly && '-c default_transaction_read_only=on'].filter(Boolean).join(' ')
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: poolSize,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'mediagate',
      types: TYPES,
      ...(settings ? { options: settings } : {}),
    })
    this.clock = serverCatalogClock(
      async () => {
        const { rows } = await this.pool.query<{ now: number }>('select (extract(epoch from clock_timestamp()) * 1000)::float8 as now')
        return Number(rows[0]!.now)
      },
      options.localClock ? { local: options.localClock } : {},
    )
    // An idle connection dropped by the server must not crash the process; the pool replaces it.
    this.pool.on('error', (err) => options.logger?.warn({ err: this.toError(err) }, 'an idle PostgreSQL connection failed'))
  }

  async ping(): Promise<void> {
    await this.guard(() => this.pool.query('select 1'))
  }

  /**
   * Autovacuum off, for the server or for a table of ours: each capture rewrites its media row
   * three times (claim, lease, settlement), so without vacuum the table and its indexes fill with
   * dead entries, every claim and lookup reads more of them, and the planner works from missing
   * or stale statistics. Nothing fails; everything slows down as the catalog ages.
   */
  async serverWarnings(): Promise<string[]> {
    const { rows } = await this.guard(() =>
      this.pool.query<{ autovacuum: string; track_counts: string; tables: string[] | null }>(
        `select current_setting('autovacuum') as autovacuum, current_setting('track_counts') as track_counts,
           (select array_agg(c.relname::text order by c.relname) from pg_class c
             where c.oid in (to_regclass('media'), to_regclass('webhooks'), to_regclass('forwards'), to_regclass('tasks'))
               and exists (select 1 from unnest(c.reloptions) o where split_part(o, '=', 1) = 'autovacuum_enabled' and not split_part(o, '=', 2)::boolean)) as tables`,
      ),
    )
    const { autovacuum, track_counts: trackCounts, tables } = rows[0]!
    const fix = 'the catalog tables fill with dead rows and the planner works from missing or stale statistics, so claims and lookups slow down as the catalog ages'
    const warnings: string[] = []
    for (const [setting, value] of [['autovacuum', autovacuum], ['track_counts', trackCounts]] as const) {
      if (value !== 'on') warnings.push(`PostgreSQL runs with ${setting} = off: ${fix}. Turn it on (ALTER SYSTEM SET ${setting} = on; SELECT pg_reload_conf()), or run VACUUM ANALYZE on the catalog's tables every few minutes`)
    }
    if (tables && tables.length > 0) warnings.push(`autovacuum is disabled for ${tables.join(', ')} (autovacuum_enabled = false): ${fix}. Turn it back on: ALTER TABLE <table> RESET (autovacuum_enabled)`)
    return warnings
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }

  protected async run<T>(plan: Plan<T>, mode: PlanMode): Promise<T> {
    const autocommit = (query: CompiledQuery) => execute(this.pool, query, this.statementNames)
    if (mode === 'autocommit') return driveAsync(plan, autocommit)
    try {
      const first = plan.next()
      if (first.done) return first.value
      // A transaction of one statement is that statement alone (plan.ts, FinalQuery).
      if (!isFinalQuery(first.value)) return await this.transaction(plan, first)
      return await driveAsync(
        plan,
        (query) => {
          if (query !== first.value) throw new MediagateError('internal', 'a catalog plan ran a statement after the one it marked as its last')
          return autocommit(query)
        },
        first,
      )
    } finally {
      plan.return(undefined as T)
    }
  }

  /** Runs `plan`, whose first statement is `first`, in one transaction on one pooled client. */
  private async transaction<T>(plan: Plan<T>, first: IteratorResult<CompiledQuery, T>): Promise<T> {
    const client = await this.pool.connect()
    let broken: Error | undefined
    // A checked-out client whose connection dies between two statements emits 'error'; the pool
    // listens only to idle clients, and an unheard 'error' would end the process. The failure
    // itself reaches us through the statement that follows.
    const onError = (err: Error) => {
      broken = err
    }
    client.on('error', onError)
    try {
      await client.query('BEGIN')
      const result = await driveAsync(plan, (query) => execute(client, query, this.statementNames), first)
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr
      })
      throw err
    } finally {
      client.off('error', onError)
      // A connection that failed or could not roll back is in an unknown state: destroy it.
      client.release(broken)
    }
  }

  /** One UPDATE per group instead of one per media (postgres-group-plans.ts). */
  protected override settleGroupPlan(items: { id: string; owner: string; settlement: Settlement }[], now: number): Plan<boolean[]> {
    return postgresSettleGroupPlan(this.sqlDialect, items, now)
  }

  protected override leaseBlobsGroupPlan(leases: BlobLease[], now: number): Plan<BlobLeaseAnswer[]> {
    return postgresLeaseBlobsPlan(this.sqlDialect, leases, now)
  }

  protected claimQuery(options: ClaimOptions, now: number): CompiledQuery {
    return postgresClaimQuery(this.sqlDialect, options, now)
  }

  protected migrationPrologue(): CompiledQuery[] {
    const { qb } = this.sqlDialect
    // Released at commit. Keyed by schema: migrating one schema never waits for another.
    const key = createHash('sha256').update(`mediagate:migrate:${this.schema ?? ''}`).digest().readBigInt64BE(0)
    const statements = [sql`select pg_advisory_xact_lock(${key.toString()}::bigint)`.compile(qb)]
    if (this.schema) statements.push(sql`create schema if not exists ${sql.id(this.schema)}`.compile(qb))
    return statements
  }

  protected migrationsTableQuery(): CompiledQuery {
    return sql`select 1 as present where to_regclass('mediagate_migrations') is not null`.compile(this.sqlDialect.qb)
  }

  protected toError(err: unknown): MediagateError {
    return toCatalogError(err, 'postgres', this.secrets)
  }
}

async function execute(client: pg.Pool | pg.PoolClient, query: CompiledQuery, names: StatementNames): Promise<Row[]> {
  const name = names.nameOf(query.sql)
  const result = await client.query<Row>({ text: query.sql, values: query.parameters as unknown[], ...(name !== undefined ? { name } : {}) })
  return isCountedQuery(query) ? [{ changes: result.rowCount ?? 0 }] : result.rows
}

function passwordOf(connectionString: string): string | undefined {
  try {
    const password = new URL(connectionString).password
    return password ? decodeURIComponent(password) : undefined
  } catch {
    return undefined
  }
}
