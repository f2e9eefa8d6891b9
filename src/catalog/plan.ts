/**
 * A plan is the catalog logic of one operation written once for both engines: a generator that
 * yields compiled statements and receives each statement's rows back. The engine decides how
 * to run it: SQLite drives it synchronously inside `BEGIN IMMEDIATE`, PostgreSQL awaits each
 * statement on one pooled client inside `BEGIN`.
 */
import type { CompiledQuery } from 'kysely'

/** A row as a driver hands it over, before anything says which statement it came from. */
export type Row = Record<string, unknown>

/**
 * Statements go out, their rows come back unread (`unknown[]`): a plan reads them only through
 * `single`, which types them by the statement that produced them.
 */
export type Plan<T> = Generator<CompiledQuery, T, readonly unknown[]>

/** How a plan's statements are grouped. */
export type PlanMode =
  /** Each statement commits on its own: reads and single-statement writes. */
  | 'autocommit'
  /** All statements in one transaction that takes the write lock first. */
  | 'transaction'

/**
 * A plan of one statement whose rows are the result, typed as kysely typed the statement (its
 * selection or RETURNING). This is the one place rows meet their type: the engine ran exactly
 * the SQL kysely compiled for that type, so the shape is kysely's to vouch for, not a guess.
 */
export function* single<R>(query: CompiledQuery<R>): Plan<R[]> {
  return (yield query) as R[]
}

/** A write run for its count of changed rows: the engine answers `[{ changes }]` instead of rows. */
export interface CountedQuery extends CompiledQuery {
  readonly countChanges: true
}

export function isCountedQuery(query: CompiledQuery): query is CountedQuery {
  return (query as Partial<CountedQuery>).countChanges === true
}

/**
 * A write without RETURNING whose result is the number of rows it inserted, updated or deleted.
 * On SQLite, a one-row `INSERT … ON CONFLICT DO NOTHING` told apart this way costs far less than
 * RETURNING, which builds a temporary table per statement.
 */
export function* changes(query: CompiledQuery): Plan<number> {
  const counted: CountedQuery = { ...query, countChanges: true }
  const rows = (yield counted) as readonly { changes: number }[]
  return rows[0]?.changes ?? 0
}

/**
 * A plan's last statement: nothing follows it. PostgreSQL runs a transaction whose first
 * statement is also its last without BEGIN and COMMIT (a statement on its own commits atomically),
 * saving two of its three round trips; SQLite, which runs the plan in-process, ignores the mark.
 * A plan that runs another plan and then more statements must pass that plan through `continued`.
 */
export interface FinalQuery extends CompiledQuery {
  readonly final: true
}

export function isFinalQuery(query: CompiledQuery): query is FinalQuery {
  return (query as Partial<FinalQuery>).final === true
}

/** `single` for a plan's last statement (see FinalQuery). */
export function* last<R>(query: CompiledQuery<R>): Plan<R[]> {
  const final: FinalQuery = { ...query, final: true }
  return (yield final) as R[]
}

/** Runs `plan` as one part of a longer plan: its last statement is no longer the last. */
export function* continued<T>(plan: Plan<T>): Plan<T> {
  try {
    let step = plan.next()
    while (!step.done) {
      const query = step.value
      step = plan.next(yield isFinalQuery(query) ? ({ ...query, final: false } as CompiledQuery) : query)
    }
    return step.value
  } finally {
    plan.return(undefined as T)
  }
}

/** Runs a plan with a synchronous executor. */
export function driveSync<T>(plan: Plan<T>, execute: (query: CompiledQuery) => readonly unknown[]): T {
  try {
    let step = plan.next()
    while (!step.done) step = plan.next(execute(step.value))
    return step.value
  } finally {
    plan.return(undefined as T)
  }
}

/**
 * Runs a plan with an asynchronous executor, one statement at a time, from `first` (the plan's
 * first step, when the caller has already taken it) on.
 */
export async function driveAsync<T>(plan: Plan<T>, execute: (query: CompiledQuery) => Promise<readonly unknown[]>, first?: IteratorResult<CompiledQuery, T>): Promise<T> {
  try {
    let step = first ?? plan.next()
    while (!step.done) step = plan.next(await execute(step.value))
    return step.value
  } finally {
    plan.return(undefined as T)
  }
}
