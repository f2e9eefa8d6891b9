/**
 * The generic task queue as plans for both engines (see plan.ts and catalog.ts `Tasks`). A task
 * is due while `due_at` is set and has passed, its lease free or expired; claims work as media
 * claims do (claim-queries.ts): SKIP LOCKED on PostgreSQL, one writer on SQLite, a crash count
 * that a takeover raises and any settlement resets, and due tasks at the head of the queue that
 * reached the crash limit given up (`crashed`) in the claim's transaction. Done tasks are
 * deleted; failed ones stay, with their error and no due time, until queued again.
 */
import { type ExpressionBuilder, sql } from 'kysely'
import type { NewTask, TaskClaimOptions, TaskRecord, TaskSettlement } from './catalog.js'
import { ulid } from '../media/ids.js'
import { GAVE_UP, gaveUpMessage, inIndexOrder, unfinishedAfterClaim } from './claim-queries.js'
import { single, type Plan } from './plan.js'
import type { Database, TaskRow } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

export const TASK_ID_PREFIX = 'tsk_'

/** The task kind that makes thumbnails, previews and facts (src/derivatives); its status shows on the media. */
export const DERIVE_TASK = 'derive'

/** The task kind that deletes an erased media's uploads at Meta (src/outbound, catalog `handle_deletions`). */
export const META_DELETE_TASK = 'meta_delete'

/** Tasks per statement, far below either engine's limit on bound parameters. */
const ROWS_PER_STATEMENT = 200

function due(eb: ExpressionBuilder<Database, 'tasks'>, kind: string, now: number) {
  return eb.and([
    eb('kind', '=', kind),
    eb('due_at', 'is not', null),
    eb('due_at', '<=', now),
    eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]),
  ])
}

function underCrashLimit(eb: ExpressionBuilder<Database, 'tasks'>, crashLimit: number) {
  return eb.or([eb('lease_expires_at', 'is', null), eb(eb('unfinished', '+', 1), '<', crashLimit)])
}

export function* enqueueTasksPlan(dialect: SqlDialect, tasks: NewTask[], now: number): Plan<number> {
  let written = 0
  for (let i = 0; i < tasks.length; i += ROWS_PER_STATEMENT) {
    const rows = tasks.slice(i, i + ROWS_PER_STATEMENT).map((t) => ({
      id: TASK_ID_PREFIX + ulid(now),
      kind: t.kind,
      media_id: t.mediaId,
      due_at: t.dueAt?.getTime() ?? now,
      attempts: 0,
      unfinished: 0,
      created_at: now,
      updated_at: now,
    }))
    const returned = yield* single(
      dialect.qb
        .insertInto('tasks')
        .values(rows)
        // A queued task keeps its place; a failed one (no due time) comes back with a fresh budget.
        .onConflict((oc) =>
          oc
            .columns(['kind', 'media_id'])
            .doUpdateSet((eb) => ({ due_at: eb.ref('excluded.due_at'), attempts: 0, unfinished: 0, last_error: null, updated_at: eb.ref('excluded.updated_at') }))
            .where('tasks.due_at', 'is', null),
        )
        .returning('id')
        .compile(),
    )
    written += returned.length
  }
  return written
}

export function* claimTasksPlan(dialect: SqlDialect, options: TaskClaimOptions, now: number): Plan<TaskRecord[]> {
  const { qb } = dialect
  const head = qb
    .selectFrom('tasks')
    .select('id')
    .where((eb) => due(eb, options.kind, now))
    .orderBy('due_at')
    .orderBy('id')
    .limit(options.limit)
  const picked = head.where((eb) => underCrashLimit(eb, options.crashLimit))
  const gaveUp = {
    due_at: null,
    last_error: sql<string>`${`${GAVE_UP}: `} || ${gaveUpMessage('unfinished')}`,
    lease_owner: null,
    lease_expires_at: null,
    updated_at: now,
  }
  const lease = (eb: ExpressionBuilder<Database, 'tasks'>) => ({
    attempts: eb('attempts', '+', 1),
    unfinished: unfinishedAfterClaim(),
    lease_owner: options.owner,
    lease_expires_at: now + options.leaseMs,
    updated_at: now,
  })
  let rows: TaskRow[]
  if (dialect.name === 'postgres') {
    yield inIndexOrder(dialect)
    yield qb
      .with('head', () => head.forUpdate().skipLocked())
      .updateTable('tasks')
      .from('head')
      .set(gaveUp)
      .whereRef('tasks.id', '=', 'head.id')
      .where((eb) => eb.not(underCrashLimit(eb, options.crashLimit)))
      .compile()
    rows = yield* single(
      qb
        .with('picked', () => picked.forUpdate().skipLocked())
        .updateTable('tasks')
        .from('picked')
        .set(lease)
        .whereRef('tasks.id', '=', 'picked.id')
        .returningAll('tasks')
        .compile(),
    )
  } else {
    // SQLite: one writer, inside BEGIN IMMEDIATE; each pick and its update see one snapshot.
    yield qb
      .updateTable('tasks')
      .set(gaveUp)
      .where('id', 'in', head)
      .where((eb) => eb.not(underCrashLimit(eb, options.crashLimit)))
      .compile()
    rows = yield* single(qb.updateTable('tasks').set(lease).where('id', 'in', picked).returningAll().compile())
  }
  // RETURNING has no order: oldest due first for the caller.
  return rows.map(rowToTask).sort((a, b) => (a.dueAt?.getTime() ?? 0) - (b.dueAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1))
}

export function* renewTasksPlan(dialect: SqlDialect, ids: string[], owner: string, leaseMs: number, now: number): Plan<string[]> {
  const renewed: string[] = []
  for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
    const rows = yield* single(
      dialect.qb
        .updateTable('tasks')
        .set({ lease_expires_at: now + leaseMs })
        .where('id', 'in', ids.slice(i, i + ROWS_PER_STATEMENT))
        .where('lease_owner', '=', owner)
        .where('due_at', 'is not', null)
        .returning('id')
        .compile(),
    )
    for (const row of rows) renewed.push(row.id)
  }
  return renewed
}

export function* settleTaskPlan(dialect: SqlDialect, id: string, owner: string, s: TaskSettlement, now: number): Plan<boolean> {
  const { qb } = dialect
  if (s.status === 'done') {
    const rows = yield* single(qb.deleteFrom('tasks').where('id', '=', id).where('lease_owner', '=', owner).where('due_at', 'is not', null).returning('id').compile())
    return rows.length > 0
  }
  const refund = s.status === 'retry' && s.refundAttempt === true
  const rows = yield* single(
    qb
      .updateTable('tasks')
      .set((eb) => ({
        due_at: s.status === 'retry' ? s.dueAt.getTime() : null,
        last_error: s.error,
        ...(refund ? { attempts: eb('attempts', '-', 1) } : {}),
        unfinished: 0,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('due_at', 'is not', null)
      .returning('id')
      .compile(),
  )
  return rows.length > 0
}

/** A leased task is due again when its lease runs out, not at its (past) due time. */
export function* nextTaskDuePlan(dialect: SqlDialect, kind: string): Plan<Date | null> {
  const rows = yield* single(
    dialect.qb
      .selectFrom('tasks')
      .select((eb) =>
        eb.fn
          .min(
            eb
              .case()
              .when(eb.and([eb('lease_expires_at', 'is not', null), eb('lease_expires_at', '>', eb.ref('due_at'))]))
              .then(eb.ref('lease_expires_at'))
              .else(eb.ref('due_at'))
              .end(),
          )
          .as('due'),
      )
      .where('kind', '=', kind)
      .where('due_at', 'is not', null)
      .compile(),
  )
  const value = rows[0]?.due
  return value === null || value === undefined ? null : new Date(Number(value))
}

export function* getTaskPlan(dialect: SqlDialect, kind: string, mediaId: string): Plan<TaskRecord | undefined> {
  const rows = yield* single(dialect.qb.selectFrom('tasks').selectAll().where('kind', '=', kind).where('media_id', '=', mediaId).compile())
  return rows[0] ? rowToTask(rows[0]) : undefined
}

function rowToTask(r: TaskRow): TaskRecord {
  return {
    id: r.id,
    kind: r.kind,
    mediaId: r.media_id,
    dueAt: toDate(r.due_at),
    attempts: Number(r.attempts),
    leaseOwner: r.lease_owner,
    leaseExpiresAt: toDate(r.lease_expires_at),
    lastError: r.last_error,
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  }
}

function toDate(value: number | null): Date | null {
  return value === null || value === undefined ? null : new Date(Number(value))
}
