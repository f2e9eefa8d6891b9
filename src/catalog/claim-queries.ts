/**
 * Claiming due jobs. Both engines pick `pending` records whose attempt is due and whose lease is
 * free or expired, earliest capture deadline first (`deadline_order`, migration 7: a backlog
 * spends its capacity on the media Meta stops serving soonest, such as a No-Storage number's
 * one-hour media, before week-long WhatsApp ids), and lease them in the same statement, so a
 * record is never handed to two callers. The order is the index `media_claim_deadline_idx`
 * (status, deadline_order, next_attempt_at, id; pending records only since migration 13), so the
 * pick reads the head of that index on both engines instead of sorting the backlog:
 * - PostgreSQL locks the picked rows `FOR UPDATE SKIP LOCKED` in a CTE: concurrent claimers skip
 *   each other's rows instead of waiting for them or claiming them twice.
 * - SQLite has one writer at a time; the engine runs this inside `BEGIN IMMEDIATE`, so the pick
 *   and the update see the same snapshot even with other processes on the same file.
 *
 * A job whose attempts keep ending without a settlement is not leased again forever: a claim
 * that takes over an expired lease counts one more unfinished attempt (`unfinished`; any
 * settlement resets it), and in the same transaction, just before the claim, the due jobs whose
 * count reaches `crashLimit` become `failed` with `crashed` (see `giveUpQuery`). Without that, a
 * job whose capture crashes or hangs the process would come back after every lease expiry
 * forever, since no settlement ever ends it. Attempts that did settle never count here: how
 * long a failing job is retried is the job kind's decision (media: until the source's deadline).
 */
import type { ErrorCode } from '../errors.js'
import { type CompiledQuery, type ExpressionBuilder, type RawBuilder, sql } from 'kysely'
import type { ClaimOptions } from './catalog.js'
import { type Plan, single } from './plan.js'
import { cachedStatement } from './statement-cache.js'
import type { Database, MediaRow } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

/** The error code of a job (or forward) the claim gave up on: its attempts never settled. */
export const GAVE_UP: ErrorCode = 'crashed'

/**
 * A literal status, not a parameter: `media_claim_deadline_idx` holds pending records only
 * (migration 13), and a planner uses a partial index only when the WHERE proves its predicate.
 */
function due(eb: ExpressionBuilder<Database, 'media'>, now: number) {
  return eb.and([
    eb('status', '=', sql.lit('pending')),
    eb('next_attempt_at', '<=', now),
    eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]),
  ])
}

/** The row's previous attempt ended without a settlement (its lease ran out and is still set). */
function unsettled(eb: ExpressionBuilder<Database, 'media'>) {
  return eb('lease_expires_at', 'is not', null)
}

/** Rows the claim may hand out: fresh, settled, or unfinished fewer times in a row than the limit. */
export function underCrashLimit(eb: ExpressionBuilder<Database, 'media'>, crashLimit: number) {
  return eb.or([eb.not(unsettled(eb)), eb(eb('unfinished', '+', 1), '<', crashLimit)])
}

function leaseColumns(eb: ExpressionBuilder<Database, 'media'>, options: ClaimOptions, now: number) {
  return {
    attempts: eb('attempts', '+', 1),
    unfinished: unfinishedAfterClaim(),
    lease_owner: options.owner,
    lease_expires_at: now + options.leaseMs,
    updated_at: now,
  }
}

/**
 * Gives up on the crashed jobs among the first `limit` due ones, then claims. The window is the
 * one the claim itself reads through the (status, deadline_order, …) index, so the extra
 * statement costs no scan of the whole backlog; a crashed job beyond it is skipped by the claim
 * (`underCrashLimit`) and given up once it reaches the head of the queue.
 */
export function* claimJobsPlan(dialect: SqlDialect, claimQuery: CompiledQuery<MediaRow>, options: ClaimOptions, now: number): Plan<MediaRow[]> {
  // PostgreSQL's claim gives up in the same statement (postgresClaimQuery).
  if (dialect.name !== 'postgres') yield giveUpQuery(dialect, options, now)
  else yield inIndexOrder(dialect)
  return yield* single(claimQuery)
}

/**
 * PostgreSQL: the claims that follow, in this transaction, read the due head in their index's
 * order, never the whole backlog (media, tasks and forwards alike). A pick (`order by` an
 * index's columns, `limit`) has two plans: walk the index in order and stop after `limit` rows,
 * or read every due row (a bitmap scan) and sort them. The planner takes the second when it
 * believes few rows are due, which it does while a table has no statistics (a new catalog,
 * autovacuum off) or old ones (the backlog grew since the last ANALYZE): then every claim read
 * and sorted the whole backlog (3,000 pending media: 13% of the backends' CPU on the scale-out
 * path, perf), exactly when a backlog needs draining. With sorting and bitmap scans off for the
 * transaction, the walk in index order is the plan left (an incremental sort where the index
 * ends before the `order by` does); it also marks the dead entries it passes, so the next claim
 * skips them, which a bitmap scan never does.
 */
export function inIndexOrder({ qb }: SqlDialect): CompiledQuery<{ sort: string; bitmap: string }> {
  return sql<{ sort: string; bitmap: string }>`select set_config('enable_sort', 'off', true) as sort, set_config('enable_bitmapscan', 'off', true) as bitmap`.compile(qb)
}

/**
 * The claim's statements are compiled once per dialect and reused with each claim's values (see
 * statement-cache.ts: the first compile checks that kysely's parameters are exactly these, in
 * this order, or the statement is never cached). The orders are kysely's: the CTE's first on
 * PostgreSQL, the SET's first on SQLite.
 */
const MESSAGE_PARTS = ['gave up after ', ' attempts in a row that never finished (the process crashed, hung or lost its lease)']

export function giveUpQuery(dialect: SqlDialect, options: ClaimOptions, now: number): CompiledQuery {
  const { limit, crashLimit } = options
  const set = ['failed', GAVE_UP, ...MESSAGE_PARTS, null, null, null, null, now]
  const head = [now, now, limit]
  const values = dialect.name === 'postgres' ? [...head, ...set, 1, crashLimit] : [...set, now, now, limit, 1, crashLimit]
  return cachedStatement(dialect, 'claim-give-up', values, () => buildGiveUpQuery(dialect, options, now))
}

/** The first `limit` due jobs, the window the give-up and PostgreSQL's claim both read. */
function dueHead({ qb }: SqlDialect, now: number, limit: number) {
  return (
    qb
      .selectFrom('media')
      .select('id')
      .where((w) => due(w, now))
      // Earliest deadline first, then oldest due: exactly the index's columns.
      .orderBy('deadline_order')
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
  )
}

function buildGiveUpQuery(dialect: SqlDialect, options: ClaimOptions, now: number): CompiledQuery {
  const { name, qb } = dialect
  const head = dueHead(dialect, now, options.limit)
  const columns = giveUpColumns(now)
  if (name === 'postgres') {
    // Locked like the claim's own pick: a row another claimer holds is skipped, not waited for.
    return qb
      .with('head', () => head.forUpdate().skipLocked())
      .updateTable('media')
      .from('head')
      .set(columns)
      .whereRef('media.id', '=', 'head.id')
      .where((eb) => eb.not(underCrashLimit(eb, options.crashLimit)))
      .compile()
  }
  return qb
    .updateTable('media')
    .set(columns)
    .where('id', 'in', head)
    .where((eb) => eb.not(underCrashLimit(eb, options.crashLimit)))
    .compile()
}

function giveUpColumns(now: number) {
  return {
    status: 'failed',
    error_code: GAVE_UP,
    error_message: gaveUpMessage('unfinished'),
    error_vendor_code: null,
    next_attempt_at: null,
    lease_owner: null,
    lease_expires_at: null,
    updated_at: now,
  } as const
}

/** The count after a claim: one more when it takes over a lease that ran out unsettled (SQL, per row). */
export function unfinishedAfterClaim(): RawBuilder<number> {
  return sql<number>`case when ${sql.ref('lease_expires_at')} is not null then ${sql.ref('unfinished')} + 1 else ${sql.ref('unfinished')} end`
}

/** Why the claim gave up, with the row's own count, this takeover included (SQL, per row). */
export function gaveUpMessage(unfinishedColumn: string): RawBuilder<string> {
  return sql<string>`${'gave up after '} || cast(${sql.ref(unfinishedColumn)} + 1 as text) || ${' attempts in a row that never finished (the process crashed, hung or lost its lease)'}`
}

export function sqliteClaimQuery(dialect: SqlDialect, options: ClaimOptions, now: number): CompiledQuery<MediaRow> {
  const { owner, leaseMs, crashLimit, limit } = options
  return cachedStatement(dialect, 'claim', [1, owner, now + leaseMs, now, now, now, 1, crashLimit, limit], () => buildSqliteClaimQuery(dialect, options, now))
}

function buildSqliteClaimQuery({ qb }: SqlDialect, options: ClaimOptions, now: number): CompiledQuery<MediaRow> {
  return qb
    .updateTable('media')
    .set((eb) => leaseColumns(eb, options, now))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('media')
        .select('id')
        .where((w) => due(w, now))
        .where((w) => underCrashLimit(w, options.crashLimit))
        // Earliest deadline first, then oldest due: exactly the index's columns.
    .orderBy('deadline_order')
    .orderBy('next_attempt_at')
    .orderBy('id')
        .limit(options.limit),
    )
    .returningAll()
    .compile()
}

/**
 * The give-up (giveUpQuery) and the claim in one statement: both CTEs read one snapshot, and the
 * rows given up are exactly those the pick leaves out (`underCrashLimit`), so the claim picks
 * what it would have picked after a separate give-up, and the two never update one row.
 * PostgreSQL runs a data-modifying CTE to completion whether or not the query reads it.
 */
export function postgresClaimQuery(dialect: SqlDialect, options: ClaimOptions, now: number): CompiledQuery<MediaRow> {
  const { owner, leaseMs, crashLimit, limit } = options
  const giveUp = [now, now, limit, 'failed', GAVE_UP, ...MESSAGE_PARTS, null, null, null, null, now, 1, crashLimit]
  return cachedStatement(dialect, 'claim', [...giveUp, now, now, 1, crashLimit, limit, 1, owner, now + leaseMs, now], () => buildPostgresClaimQuery(dialect, options, now))
}

function buildPostgresClaimQuery(dialect: SqlDialect, options: ClaimOptions, now: number): CompiledQuery<MediaRow> {
  const { qb } = dialect
  const head = dueHead(dialect, now, options.limit).forUpdate().skipLocked()
  return qb
    .with('head', () => head)
    .with('gave_up', (db) =>
      db
        .updateTable('media')
        .from('head')
        .set(giveUpColumns(now))
        .whereRef('media.id', '=', 'head.id')
        .where((eb) => eb.not(underCrashLimit(eb, options.crashLimit))),
    )
    .with('picked', (db) =>
      db
        .selectFrom('media')
        .select('id')
        .where((w) => due(w, now))
        .where((w) => underCrashLimit(w, options.crashLimit))
        // Earliest deadline first, then oldest due: exactly the index's columns.
    .orderBy('deadline_order')
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
