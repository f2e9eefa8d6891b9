/**
 * kysely as a query builder only: each catalog compiles its queries with the right dialect and
 * runs them on its own driver. SQLite runs whole transactions synchronously on better-sqlite3
 * (nothing else in the process can slip in between their statements, so a busy lock never
 * waits on our own event loop); PostgreSQL runs them on a pooled pg client.
 */
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import type { Database, DbBoolean } from './schema.js'

export type DialectName = 'sqlite' | 'postgres'

/** What differs between the engines in column types and values. */
export interface SqlDialect {
  name: DialectName
  /** Compiles queries; never executes them. */
  qb: Kysely<Database>
  types: { bytes: 'blob' | 'bytea'; boolean: 'integer' | 'boolean' }
  /** better-sqlite3 binds no booleans: 0/1 there, native on PostgreSQL. */
  bool(value: boolean | null): DbBoolean | null
}

export function sqlDialect(name: DialectName): SqlDialect {
  if (name === 'sqlite') {
    return {
      name,
      qb: compileOnly(() => new SqliteAdapter(), (db) => new SqliteIntrospector(db), () => new SqliteQueryCompiler()),
      types: { bytes: 'blob', boolean: 'integer' },
      bool: (v) => (v === null ? null : v ? 1 : 0),
    }
  }
  return {
    name,
    qb: compileOnly(() => new PostgresAdapter(), (db) => new PostgresIntrospector(db), () => new PostgresQueryCompiler()),
    types: { bytes: 'bytea', boolean: 'boolean' },
    bool: (v) => v,
  }
}

function compileOnly(
  createAdapter: () => SqliteAdapter | PostgresAdapter,
  createIntrospector: (db: Kysely<unknown>) => SqliteIntrospector | PostgresIntrospector,
  createQueryCompiler: () => SqliteQueryCompiler | PostgresQueryCompiler,
): Kysely<Database> {
  return new Kysely<Database>({
    dialect: { createAdapter, createDriver: () => new DummyDriver(), createIntrospector, createQueryCompiler },
  })
}
