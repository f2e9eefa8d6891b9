/**
 * The operators' summary (status command, dashboard header, metrics): counts by platform and
 * status, the oldest pending media, and what was stored or failed since a moment, by error code.
 *
 * Every figure reads a bounded set of rows, so the summary costs the same at any catalog size:
 * the counts are kept by triggers (counts-plans.ts), and each query here walks an index over
 * pending, recent or failed rows only (migrations 2 and 12). The statuses are literals, not
 * parameters: only then may either planner use the partial indexes of migration 12.
 */
import { sql } from 'kysely'
import type { CatalogSummary } from './catalog.js'
import { countsPlan } from './counts-plans.js'
import { single, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

/** How close a pending media's deadline must be for the summary to warn about it. */
export const NEAR_DEADLINE_MS = 60 * 60 * 1000

const PENDING = sql.lit('pending')

/**
 * SQLite: the partial index, named. A gateway never runs ANALYZE, and without statistics SQLite
 * takes an equality on `status` (media_status_id_idx) for a few rows and walks every stored or
 * failed record instead (100 ms at 100,000 records, linear). Naming a partial index its WHERE
 * does not imply is an error, not a slow plan. PostgreSQL keeps statistics of its own.
 */
function indexedBy(dialect: SqlDialect, index: string) {
  return dialect.name === 'sqlite' ? sql` indexed by ${sql.id(index)}` : sql``
}

export function* summaryPlan(dialect: SqlDialect, since: number, now: number): Plan<CatalogSummary> {
  const counts = yield* countsPlan(dialect)
  // media_pending_received_idx (migration 12): the first entry.
  const [oldest] = yield* single(
    dialect.qb
      .selectFrom('media')
      .select((eb) => eb.fn.min('received_at').as('oldest'))
      .where('status', '=', PENDING)
      .compile(),
  )
  // media_stored_at_idx (migration 12): the entries since `since`.
  const [stored] = yield* single(
    sql<{ n: number | string }>`select count(*) as n from media${indexedBy(dialect, 'media_stored_at_idx')}
      where status = 'stored' and stored_at >= ${since}`.compile(dialect.qb),
  )
  // media_failed_updated_idx (migration 12), which also holds the code: the entries since `since`.
  const failures = yield* single(
    sql<{ error_code: string | null; n: number | string }>`select error_code, count(*) as n from media${indexedBy(dialect, 'media_failed_updated_idx')}
      where status = 'failed' and updated_at >= ${since} group by error_code order by error_code`.compile(dialect.qb),
  )
  // Both read the (status, source_expires_at) index of migration 2.
  const [near] = yield* single(
    dialect.qb
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('status', '=', PENDING)
      .where('source_expires_at', '<=', now + NEAR_DEADLINE_MS)
      .compile(),
  )
  const [earliest] = yield* single(
    dialect.qb
      .selectFrom('media')
      .select((eb) => eb.fn.min('source_expires_at').as('earliest'))
      .where('status', '=', PENDING)
      .compile(),
  )
  const earliestAt = earliest?.earliest
  const oldestAt = oldest?.oldest
  return {
    counts,
    oldestPendingAt: oldestAt === null || oldestAt === undefined ? null : new Date(Number(oldestAt)),
    since: new Date(since),
    storedSince: Number(stored?.n ?? 0),
    failedSince: failures.map((row) => ({ code: String(row.error_code ?? 'unknown'), count: Number(row.n) })),
    nearDeadline: { count: Number(near?.n ?? 0), earliest: earliestAt === null || earliestAt === undefined ? null : new Date(Number(earliestAt)) },
  }
}
