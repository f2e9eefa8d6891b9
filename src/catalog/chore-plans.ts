/**
 * Periodic chores shared by every process on the catalog (the retention sweep's orphan scan): a
 * chore is claimed by stamping its start, in one statement that only succeeds when the last start
 * is old enough, so of racing processes one wins (SQLite: one writer; PostgreSQL: ON CONFLICT DO
 * UPDATE waits for the row's lock and judges its WHERE on the version the winner committed).
 *
 * The stamp is the claim: a runner that dies mid-run holds the chore until the interval has
 * passed since its start, as if it had finished. No expiry shorter than the interval exists, so a
 * run that outlasts one (a huge store) is never joined by a second runner; the price of a crash is
 * one interval without the chore. A runner that fails or is stopped gives the claim back instead.
 */
import type { ChoreName } from './catalog.js'
import { changes, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

/**
 * Claims `name` at `now` if it last started at least `everyMs` before (or never). A start more
 * than `everyMs` in the future, which only a clock since set back can leave, counts as due too:
 * otherwise a clock that once ran ahead would hold the chore off until it caught up. A start less
 * far ahead holds: racing claimants read their clocks a moment apart, and the loser's may be a
 * few milliseconds behind the stamp the winner just committed. `everyMs` 0 claims unconditionally.
 */
export function* claimChorePlan(dialect: SqlDialect, name: ChoreName, runner: string, everyMs: number, now: number): Plan<boolean> {
  const upsert = dialect.qb
    .insertInto('chore_runs')
    .values({ name, started_at: now, runner })
    .onConflict((oc) => {
      const update = oc.column('name').doUpdateSet((eb) => ({ started_at: eb.ref('excluded.started_at'), runner: eb.ref('excluded.runner') }))
      if (everyMs === 0) return update
      return update.where((eb) => eb.or([eb('chore_runs.started_at', '<=', now - everyMs), eb('chore_runs.started_at', '>', now + everyMs)]))
    })
  return (yield* changes(upsert.compile())) === 1
}

/** Gives `runner`'s claim back: the chore is due at once. False when `runner` no longer holds it. */
export function* releaseChorePlan(dialect: SqlDialect, name: ChoreName, runner: string): Plan<boolean> {
  return (yield* changes(dialect.qb.deleteFrom('chore_runs').where('name', '=', name).where('runner', '=', runner).compile())) === 1
}
