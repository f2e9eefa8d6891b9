/**
 * The migration runner, one plan for both engines, always run as a single transaction: both
 * engines have transactional DDL, so a migration is applied completely or not at all. The
 * caller serializes concurrent runners (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock
 * taken by the prologue), and the runner then reads the applied versions under that lock.
 */
import type { CompiledQuery } from 'kysely'
import { MediagateError } from '../errors.js'
import { LATEST_VERSION, MIGRATIONS } from './migrations/index.js'
import { single, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

export interface MigrationOutcome {
  from: number
  to: number
}

/** Brings the schema to `target` (default: the latest), up or down. */
export function* migratePlan(dialect: SqlDialect, prologue: CompiledQuery[], target: number = LATEST_VERSION): Plan<MigrationOutcome> {
  if (!Number.isInteger(target) || target < 0 || target > LATEST_VERSION) {
    throw new MediagateError('invalid_config', `no catalog schema version ${target}; this mediagate knows 0..${LATEST_VERSION}`)
  }
  const { qb } = dialect
  for (const statement of prologue) yield statement
  yield qb.schema
    .createTable('mediagate_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .compile()
  const rows = yield* single(qb.selectFrom('mediagate_migrations').select('version').compile())
  const from = rows.reduce((max, row) => Math.max(max, Number(row.version)), 0)
  if (from > LATEST_VERSION) {
    throw new MediagateError(
      'invalid_config',
      `the catalog schema is at version ${from}, newer than this mediagate understands (${LATEST_VERSION}): upgrade mediagate`,
    )
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= from || migration.version > target) continue
    for (const statement of migration.up(dialect)) yield statement
    yield qb
      .insertInto('mediagate_migrations')
      .values({ version: migration.version, name: migration.name, applied_at: Date.now() })
      .compile()
  }
  for (const migration of [...MIGRATIONS].reverse()) {
    if (migration.version > from || migration.version <= target) continue
    for (const statement of migration.down(dialect)) yield statement
    yield qb.deleteFrom('mediagate_migrations').where('version', '=', migration.version).compile()
  }
  return { from, to: target }
}

/** The applied schema version; 0 on an empty database. */
export function* schemaVersionPlan(dialect: SqlDialect, tableExists: CompiledQuery): Plan<number> {
  const exists = yield tableExists
  if (exists.length === 0) return 0
  const rows = yield* single(dialect.qb.selectFrom('mediagate_migrations').select((eb) => eb.fn.max('version').as('version')).compile())
  return Number(rows[0]?.version ?? 0)
}
