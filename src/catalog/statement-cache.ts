/**
 * Hot multi-row INSERTs compiled once per shape. Building a query with kysely (an operation tree
 * built, frozen and visited per call) costs more than SQLite takes to run a small insert, and the
 * SQL of `INSERT … VALUES (…), (…)` depends only on the statement, its columns and the row count.
 * So the SQL is compiled once per shape and reused with the new rows' values, bound row by row in
 * column order.
 *
 * The first compile of each shape checks that kysely's parameters are exactly those values; if
 * they are not (a value kysely inlines or omits, or a change in kysely), that shape is never
 * cached and every call compiles, so a reused statement can never bind a value to the wrong column.
 */
import type { CompiledQuery } from 'kysely'
import type { SqlDialect } from './sql-dialect.js'

/** Shapes per dialect: a statement × the row counts a group can have. */
const MAX_SHAPES = 1000

const caches = new WeakMap<SqlDialect, Map<string, CompiledQuery | null>>()

export function cachedInsert<R extends object, O>(dialect: SqlDialect, name: string, rows: R[], build: (rows: R[]) => CompiledQuery<O>): CompiledQuery<O> {
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : []
  const key = `${name}|${rows.length}|${columns.join(',')}`
  let cache = caches.get(dialect)
  if (!cache) caches.set(dialect, (cache = new Map()))
  const cached = cache.get(key)
  if (cached === null) return build(rows)
  const parameters = sameShape(rows, columns) ? rowMajor(rows, columns) : undefined
  if (cached && parameters) return { ...cached, parameters }
  const compiled = build(rows)
  if (!cached && cache.size < MAX_SHAPES && parameters) cache.set(key, sameParameters(compiled.parameters, parameters) ? compiled : null)
  return compiled
}

/**
 * Any other hot statement whose SQL depends only on `key` (a settlement's columns, say): compiled
 * once and reused with `values` as its parameters, in order. Checked as inserts are: a compile
 * whose parameters are not exactly `values` is never cached, so a reused statement can never
 * bind a value to the wrong place; that call (and the next with its key) simply compiles.
 */
export function cachedStatement<O>(dialect: SqlDialect, key: string, values: readonly unknown[], build: () => CompiledQuery<O>): CompiledQuery<O> {
  let cache = caches.get(dialect)
  if (!cache) caches.set(dialect, (cache = new Map()))
  const cached = cache.get(key)
  if (cached) return { ...(cached as CompiledQuery<O>), parameters: values }
  const compiled = build()
  if (cache.size < MAX_SHAPES && sameParameters(compiled.parameters, values)) cache.set(key, compiled)
  return compiled
}

/** `columns` are the first row's: only the others need checking (SQLite inserts one row at a time). */
function sameShape(rows: object[], columns: string[]): boolean {
  if (rows.length === 1) return true
  const names = columns.join(',')
  return rows.every((row) => Object.keys(row).join(',') === names)
}

/** The values in binding order, or undefined when one is `undefined` (kysely writes DEFAULT there). */
function rowMajor(rows: object[], columns: string[]): unknown[] | undefined {
  const out: unknown[] = []
  for (const row of rows) {
    for (const column of columns) {
      const value = (row as Record<string, unknown>)[column]
      if (value === undefined) return undefined
      out.push(value)
    }
  }
  return out
}

function sameParameters(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]))
}
