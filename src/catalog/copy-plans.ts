/**
 * Raw row export and import, for copying a whole catalog between engines (`migrate-data`).
 * Rows travel as the engines store them; only booleans differ (0/1 on SQLite, native on
 * PostgreSQL). Importing is idempotent: rows whose id already exists are left alone, so an
 * interrupted copy can simply be run again.
 */
import type { CopyTable } from './catalog.js'
import { single, type Plan, type Row } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

const BOOLEAN_COLUMNS: Record<CopyTable, readonly string[]> = { webhooks: [], media: ['voice', 'animated'], forwards: ['wait_for_media'] }
const ROWS_PER_INSERT = 100

export function* exportRowsPlan(dialect: SqlDialect, table: CopyTable, afterId: string | null, limit: number): Plan<Row[]> {
  let query = dialect.qb.selectFrom(table).selectAll()
  if (afterId !== null) query = query.where('id', '>', afterId)
  return yield* single(query.orderBy('id').limit(limit).compile())
}

export function* importRowsPlan(dialect: SqlDialect, table: CopyTable, rows: Row[]): Plan<number> {
  const prepared = rows.map((row) => {
    const out: Row = { ...row }
    for (const column of BOOLEAN_COLUMNS[table]) {
      const v = out[column]
      out[column] = v === null || v === undefined ? null : dialect.bool(Boolean(v))
    }
    // A lease belongs to a process of the old deployment.
    if (table !== 'webhooks') Object.assign(out, { lease_owner: null, lease_expires_at: null })
    return out
  })
  let inserted = 0
  for (let i = 0; i < prepared.length; i += ROWS_PER_INSERT) {
    const returned = yield dialect.qb
      .insertInto(table)
      .values(prepared.slice(i, i + ROWS_PER_INSERT) as never)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .compile()
    inserted += returned.length
  }
  return inserted
}
