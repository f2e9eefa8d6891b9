/**
 * A plan is the catalog logic of one operation written once for both engines: a generator that
 * yields compiled statements and receives each statement's rows back. The engine decides how
 * to run it: SQLite drives it synchronously inside `BEGIN IMMEDIATE`, PostgreSQL awaits each
 * statement on one pooled client inside `BEGIN`.
 */
import type { CompiledQuery } from 'kysely'

export type Row = Record<string, unknown>

export type Plan<T> = Generator<CompiledQuery, T, Row[]>

/** How a plan's statements are grouped. */
export type PlanMode =
  /** Each statement commits on its own: reads and single-statement writes. */
  | 'autocommit'
  /** All statements in one transaction that takes the write lock first. */
  | 'transaction'

/** A plan of one statement whose rows are the result. */
export function* single(query: CompiledQuery): Plan<Row[]> {
  return yield query
}

/** Runs a plan with a synchronous executor. */
export function driveSync<T>(plan: Plan<T>, execute: (query: CompiledQuery) => Row[]): T {
  try {
    let step = plan.next()
    while (!step.done) step = plan.next(execute(step.value))
    return step.value
  } finally {
    plan.return(undefined as T)
  }
}

/** Runs a plan with an asynchronous executor, one statement at a time. */
export async function driveAsync<T>(plan: Plan<T>, execute: (query: CompiledQuery) => Promise<Row[]>): Promise<T> {
  try {
    let step = plan.next()
    while (!step.done) step = plan.next(await execute(step.value))
    return step.value
  } finally {
    plan.return(undefined as T)
  }
}
