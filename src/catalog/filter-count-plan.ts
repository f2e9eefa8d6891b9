/**
 * How many records match a filter, for the confirmation before acting on all of them. The count
 * reads at most `atMost + 1` matching rows (a subquery with a LIMIT), so counting a filter that
 * matches millions costs what counting `atMost + 1` does, and answers "more than `atMost`".
 */
import { sql } from 'kysely'
import type { FilterCount, MediaFilter } from './catalog.js'
import { MediagateError } from '../errors.js'
import { filterExpression } from './media-filter.js'
import { single, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

/** The largest cap a caller may ask for: a count is a bounded read, not a report. */
export const MAX_COUNT_CAP = 100_000

export function* filterCountPlan(dialect: SqlDialect, filter: MediaFilter, atMost: number): Plan<FilterCount> {
  if (!Number.isInteger(atMost) || atMost < 0 || atMost > MAX_COUNT_CAP) {
    throw new MediagateError('bad_request', `atMost must be a whole number from 0 to ${MAX_COUNT_CAP}`)
  }
  const hits = dialect.qb
    .selectFrom('media')
    .select(sql<number>`1`.as('hit'))
    .where((eb) => filterExpression(eb, filter))
    .limit(atMost + 1)
    .as('hits')
  const rows = yield* single(dialect.qb.selectFrom(hits).select((eb) => eb.fn.countAll<number | string>().as('count')).compile())
  const count = Number(rows[0]?.count ?? 0)
  return { count, capped: count > atMost }
}
