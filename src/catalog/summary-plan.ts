/**
 * The operators' summary (status command, dashboard header, metrics): counts by platform and
 * status, the oldest pending media, and what was stored or failed since a moment, by error code.
 */
import type { CatalogSummary } from './catalog.js'
import { countsPlan } from './media-plans.js'
import { single, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

/** How close a pending media's deadline must be for the summary to warn about it. */
export const NEAR_DEADLINE_MS = 60 * 60 * 1000

export function* summaryPlan(dialect: SqlDialect, since: number, now: number): Plan<CatalogSummary> {
  const counts = yield* countsPlan(dialect)
  const [oldest] = yield* single(
    dialect.qb
      .selectFrom('media')
      .select((eb) => eb.fn.min('received_at').as('oldest'))
      .where('status', '=', 'pending')
      .compile(),
  )
  const [stored] = yield* single(
    dialect.qb
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('status', '=', 'stored')
      .where('stored_at', '>=', since)
      .compile(),
  )
  const failures = yield* single(
    dialect.qb
      .selectFrom('media')
      .select((eb) => ['error_code', eb.fn.countAll<number | string>().as('n')])
      .where('status', '=', 'failed')
      .where('updated_at', '>=', since)
      .groupBy('error_code')
      .orderBy('error_code')
      .compile(),
  )
  // Both read the (status, source_expires_at) index of migration 2.
  const [near] = yield* single(
    dialect.qb
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('status', '=', 'pending')
      .where('source_expires_at', '<=', now + NEAR_DEADLINE_MS)
      .compile(),
  )
  const [earliest] = yield* single(
    dialect.qb
      .selectFrom('media')
      .select((eb) => eb.fn.min('source_expires_at').as('earliest'))
      .where('status', '=', 'pending')
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
