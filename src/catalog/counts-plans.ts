/**
 * Media counts by platform and status without reading `media` (migration 12): the base counts
 * plus the deltas the triggers appended since the last fold. Both are small whatever the size of
 * the catalog: one base row per (platform, status), and fewer deltas than a few folds' worth.
 */
import { sql } from 'kysely'
import type { StatusCount } from './catalog.js'
import type { MediaStatus, Platform } from '../media/record.js'
import { SQLITE_FOLD } from './migrations/0012_media_counts.js'
import { single, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

/** One statement, so PostgreSQL reads the base and the deltas in one snapshot (a fold moves rows between them atomically). */
export function* countsPlan(dialect: SqlDialect): Plan<StatusCount[]> {
  const rows = yield* single(
    sql<{ platform: string; status: string; count: number | string }>`
      select platform, status, sum(n) as count from (
        select platform, status, count as n from media_counts
        union all
        select platform, status, delta as n from media_count_deltas
      ) as c
      group by platform, status
      having sum(n) <> 0
      order by platform, status`.compile(dialect.qb),
  )
  return rows.map((row) => ({ platform: row.platform as Platform, status: row.status as MediaStatus, count: Number(row.count) }))
}

/**
 * Folds the deltas into the base now. Writers already do it every FOLD_EVERY deltas, so this is
 * for tests and tools; idempotent, and on PostgreSQL a no-op while another transaction folds.
 */
export function* compactCountsPlan(dialect: SqlDialect): Plan<void> {
  if (dialect.name === 'postgres') {
    yield sql`select media_counts_fold()`.compile(dialect.qb)
    return
  }
  for (const statement of SQLITE_FOLD) yield statement.compile(dialect.qb)
}
