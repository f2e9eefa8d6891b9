/**
 * Claiming due jobs. Both engines pick `pending` records whose attempt is due and whose lease is
 * free or expired, oldest due first, and lease them in the same statement, so a record is never
 * handed to two callers:
 * - PostgreSQL locks the picked rows `FOR UPDATE SKIP LOCKED` in a CTE: concurrent claimers skip
 *   each other's rows instead of waiting for them or claiming them twice.
 * - SQLite has one writer at a time; the engine runs this inside `BEGIN IMMEDIATE`, so the pick
 *   and the update see the same snapshot even with other processes on the same file.
 *
 * A job whose attempts are spent is never leased again: in the same transaction, just before
 * the claim, the due jobs at or past `maxAttempts` become `failed` (see `giveUpQuery`). Without
 * that, a job whose capture crashes or hangs the process would come back after every lease
 * expiry forever, since no settlement ever counts its attempts against the budget.
 */
import type { ErrorCode } from '../errors.js'
import { type CompiledQuery, type ExpressionBuilder, type RawBuilder, sql } from 'kysely'
import type { ClaimOptions } from './catalog.js'
import { single, type Plan } from './plan.js'
import type { Database, MediaRow } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

/** Error codes of a job (or forward) the claim gave up on. */
export const GAVE_UP = {
  /** Its last attempt never settled: the process crashed or hung, or the worker lost its lease. */
  crashed: 'crashed',
  /** No lease was running: the budget was already spent (e.g. `maxAttempts` was lowered). */
  exhausted: 'attempts_exhausted',
} as const satisfies Record<string, ErrorCode>

function due(eb: ExpressionBuilder<Database, 'media'>, now: number) {
  return eb.and([
    eb('status', '=', 'pending'),
    eb('next_attempt_at', '<=', now),
    eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]),
  ])
}

function leaseColumns(eb: ExpressionBuilder<Database, 'media'>, options: ClaimOptions, now: number) {
  return {
    attempts: eb('attempts', '+', 1),
    lease_owner: options.owner,
    lease_expires_at: now + options.leaseMs,
    updated_at: now,
  }
}

/**
 * Gives up on the spent jobs among the first `limit` due ones, then claims. The window is the
 * one the claim itself reads through the (status, next_attempt_at) index, so the extra
 * statement costs no scan of the whole backlog; a spent job beyond it is skipped by the claim
 * (`attempts < maxAttempts`) and given up once it reaches the head of the queue, where a
 * crashed job sorts anyway (its next_attempt_at is older than its expired lease).
 */
export function* claimJobsPlan(dialect: SqlDialect, claimQuery: CompiledQuery<MediaRow>, options: ClaimOptions, now: number): Plan<MediaRow[]> {
  yield giveUpQuery(dialect, options, now)
  return yield* single(claimQuery)
}

export function giveUpQuery({ name, qb }: SqlDialect, options: ClaimOptions, now: number): CompiledQuery {
  const head = qb
    .selectFrom('media')
    .select('id')
    .where((w) => due(w, now))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(options.limit)
  const columns = {
    status: 'failed',
    error_code: gaveUpCode('lease_expires_at'),
    error_message: gaveUpMessage('lease_expires_at', 'attempts', options.maxAttempts),
    error_vendor_code: null,
    next_attempt_at: null,
    lease_owner: null,
    lease_expires_at: null,
    updated_at: now,
  }
  if (name === 'postgres') {
    // Locked like the claim's own pick: a row another claimer holds is skipped, not waited for.
    return qb
      .with('head', () => head.forUpdate().skipLocked())
      .updateTable('media')
      .from('head')
      .set(columns)
      .whereRef('media.id', '=', 'head.id')
      .where('media.attempts', '>=', options.maxAttempts)
      .compile()
  }
  return qb.updateTable('media').set(columns).where('id', 'in', head).where('attempts', '>=', options.maxAttempts).compile()
}

/** `crashed` when the row's lease ran out unsettled, else `attempts_exhausted` (SQL, per row). */
export function gaveUpCode(leaseColumn: string): RawBuilder<string> {
  return sql<string>`case when ${sql.ref(leaseColumn)} is not null then ${GAVE_UP.crashed} else ${GAVE_UP.exhausted} end`
}

/** Why the claim gave up, with the row's own attempt count (SQL, per row). */
export function gaveUpMessage(leaseColumn: string, attemptsColumn: string, maxAttempts: number): RawBuilder<string> {
  const crashed = ' attempts: the last attempt never finished (the process crashed, hung or lost its lease)'
  const exhausted = ` attempts: no attempt is left within the limit of ${maxAttempts}`
  return sql<string>`${'gave up after '} || cast(${sql.ref(attemptsColumn)} as text) || case when ${sql.ref(leaseColumn)} is not null then ${crashed} else ${exhausted} end`
}

export function sqliteClaimQuery({ qb }: SqlDialect, options: ClaimOptions, now: number): CompiledQuery<MediaRow> {
  return qb
    .updateTable('media')
    .set((eb) => leaseColumns(eb, options, now))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('media')
        .select('id')
        .where((w) => due(w, now))
        .where('attempts', '<', options.maxAttempts)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(options.limit),
    )
    .returningAll()
    .compile()
}

export function postgresClaimQuery({ qb }: SqlDialect, options: ClaimOptions, now: number): CompiledQuery<MediaRow> {
  return qb
    .with('picked', (db) =>
      db
        .selectFrom('media')
        .select('id')
        .where((w) => due(w, now))
        .where('attempts', '<', options.maxAttempts)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(options.limit)
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('media')
    .from('picked')
    .set((eb) => leaseColumns(eb, options, now))
    .whereRef('media.id', '=', 'picked.id')
    .returningAll('media')
    .compile()
}
