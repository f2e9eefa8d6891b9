/**
 * The forwarding outbox as plans for both engines (see plan.ts): queue a forward with its
 * webhook, claim due forwards with a lease (SKIP LOCKED on PostgreSQL), settle, list, retry.
 * Order per conversation lives in the claim: a forward is never due while an earlier forward
 * of its conversation is still pending (leased, backing off, or waiting for its media).
 */
import { sql } from 'kysely'
import type { ClaimOptions, ForwardRecord, ForwardSettlement, ForwardStatus, IncomingWebhook, ListOptions, Page, RecordedWebhook } from './catalog.js'
import { MediagateError } from '../errors.js'
import { ulid } from '../media/ids.js'
import type { MediaRecord } from '../media/record.js'
import { checkLimit } from './media-filter.js'
import { GAVE_UP, gaveUpMessage, inIndexOrder, unfinishedAfterClaim } from './claim-queries.js'
import { single, type Plan } from './plan.js'
import { recordWebhooksPlan } from './record-plan.js'
import { rowToMedia } from './row-mapping.js'
import type { ForwardRow, ForwardsTable } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

export const FORWARD_ID_PREFIX = 'fwd_'
const FORWARD_ID = /^fwd_[0-9A-HJKMNP-TV-Z]{26}$/

export function isForwardId(value: string): boolean {
  return FORWARD_ID.test(value)
}

/** `recordWebhooks`, plus one outbox row per newly recorded webhook that asks for one. */
export function* recordWithForwardsPlan(dialect: SqlDialect, batch: IncomingWebhook[], now: number): Plan<RecordedWebhook[]> {
  const results = yield* recordWebhooksPlan(dialect, batch, now)
  for (const [i, webhook] of batch.entries()) {
    const result = results[i]
    // A redelivered body was queued (or deliberately not) when it was first recorded.
    if (!webhook.forward || !result?.webhookCreated) continue
    yield dialect.qb
      .insertInto('forwards')
      .values({
        id: FORWARD_ID_PREFIX + ulid(now),
        webhook_id: result.webhookId,
        conversation_key: webhook.forward.conversationKey,
        wait_for_media: dialect.bool(webhook.forward.waitForMedia)!,
        status: 'pending',
        attempts: 0,
        unfinished: 0,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('webhook_id').doNothing())
      .compile()
  }
  return results
}

/**
 * Ids of the due forwards: pending, past `next_attempt_at`, lease free or expired, no earlier
 * forward of the conversation still pending, and (when it waits for media) none of its
 * webhook's media pending.
 */
function dueForwards(dialect: SqlDialect, now: number) {
  return dialect.qb
    .selectFrom('forwards as f')
    .select('f.id')
    .where((eb) =>
      eb.and([
        eb('f.status', '=', 'pending'),
        eb('f.next_attempt_at', '<=', now),
        eb.or([eb('f.lease_expires_at', 'is', null), eb('f.lease_expires_at', '<=', now)]),
        eb.not(
          eb.exists(
            eb
              .selectFrom('forwards as e')
              .select('e.id')
              .whereRef('e.conversation_key', '=', 'f.conversation_key')
              .where('e.status', '=', 'pending')
              .whereRef('e.id', '<', 'f.id'),
          ),
        ),
        eb.or([
          eb('f.wait_for_media', '=', dialect.bool(false)!),
          eb.not(eb.exists(eb.selectFrom('media as m').select('m.id').whereRef('m.webhook_id', '=', 'f.webhook_id').where('m.status', '=', 'pending'))),
        ]),
      ]),
    )
}

function leaseColumns(options: ClaimOptions, now: number) {
  return { lease_owner: options.owner, lease_expires_at: now + options.leaseMs, updated_at: now }
}

/**
 * Gives up on the spent forwards among the first `limit` due ones (as `claimJobsPlan` does for
 * media, and for the same reason), then leases due forwards under the budget. A forward given
 * up on is `failed`, so it stops holding back its conversation: the claim that follows, in the
 * same transaction, may already take the next one.
 */
export function* claimForwardsPlan(dialect: SqlDialect, options: ClaimOptions, now: number): Plan<ForwardRecord[]> {
  const { qb } = dialect
  const head = dueForwards(dialect, now).orderBy('f.id').limit(options.limit)
  const gaveUp = {
    status: 'failed',
    last_error: sql<string>`${`${GAVE_UP}: `} || ${gaveUpMessage('unfinished')}`,
    next_attempt_at: null,
    lease_owner: null,
    lease_expires_at: null,
    updated_at: now,
  }
  const underLimit = sql<boolean>`(f.lease_expires_at is null or f.unfinished + 1 < ${options.crashLimit})`
  const crashed = sql<boolean>`(lease_expires_at is not null and unfinished + 1 >= ${options.crashLimit})`
  const picked = dueForwards(dialect, now).where(underLimit).orderBy('f.id').limit(options.limit)
  let rows: ForwardRow[]
  if (dialect.name === 'postgres') {
    yield inIndexOrder(dialect)
    yield qb
      .with('head', () => head.forUpdate().skipLocked())
      .updateTable('forwards')
      .from('head')
      .set(gaveUp)
      .whereRef('forwards.id', '=', 'head.id')
      .where(crashed)
      .compile()
    rows = yield* single(
      qb
        .with('picked', () => picked.forUpdate().skipLocked())
        .updateTable('forwards')
        .from('picked')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), unfinished: unfinishedAfterClaim(), ...leaseColumns(options, now) }))
        .whereRef('forwards.id', '=', 'picked.id')
        .returningAll('forwards')
        .compile(),
    )
  } else {
    // SQLite: one writer, inside BEGIN IMMEDIATE; each pick and its update see one snapshot.
    yield qb.updateTable('forwards').set(gaveUp).where('id', 'in', head).where(crashed).compile()
    rows = yield* single(
      qb
        .updateTable('forwards')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), unfinished: unfinishedAfterClaim(), ...leaseColumns(options, now) }))
        .where('id', 'in', picked)
        .returningAll()
        .compile(),
    )
  }
  return rows.map(rowToForward).sort((a, b) => (a.id < b.id ? -1 : 1))
}

export function* settleForwardPlan(dialect: SqlDialect, id: string, owner: string, s: ForwardSettlement, now: number): Plan<boolean> {
  const columns: Partial<ForwardsTable> =
    s.status === 'sent'
      ? { status: 'sent', sent_at: now, next_attempt_at: null, last_error: null }
      : s.status === 'retry'
        ? { status: 'pending', next_attempt_at: s.nextAttemptAt.getTime(), last_error: s.error }
        : { status: 'failed', next_attempt_at: null, last_error: s.error }
  const rows = yield* single(
    dialect.qb
      .updateTable('forwards')
      .set({ ...columns, unfinished: 0, lease_owner: null, lease_expires_at: null, updated_at: now })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'pending')
      .returning('id')
      .compile(),
  )
  return rows.length > 0
}

export function* getForwardPlan(dialect: SqlDialect, id: string): Plan<ForwardRecord | undefined> {
  const rows = yield* single(dialect.qb.selectFrom('forwards').selectAll().where('id', '=', id).compile())
  return rows[0] ? rowToForward(rows[0]) : undefined
}

export function* listForwardsPlan(dialect: SqlDialect, filter: { status?: ForwardStatus }, options: ListOptions): Plan<Page<ForwardRecord>> {
  checkLimit(options.limit)
  let query = dialect.qb.selectFrom('forwards').selectAll()
  if (filter.status !== undefined) query = query.where('status', '=', filter.status)
  if (options.cursor !== undefined) query = query.where('id', '<', decodeForwardCursor(options.cursor))
  const rows = yield* single(query.orderBy('id', 'desc').limit(options.limit + 1).compile())
  const data = rows.slice(0, options.limit).map(rowToForward)
  const last = data.at(-1)
  return { data, nextCursor: rows.length > options.limit && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null }
}

export function* retryForwardsPlan(dialect: SqlDialect, ids: string[] | undefined, now: number): Plan<ForwardRecord[]> {
  if (ids !== undefined && ids.length === 0) return []
  let query = dialect.qb
    .updateTable('forwards')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_owner: null, lease_expires_at: null, updated_at: now })
    .where('status', '=', 'failed')
  if (ids !== undefined) query = query.where('id', 'in', ids)
  const rows = yield* single(query.returningAll().compile())
  return rows.map(rowToForward).sort((a, b) => (a.id < b.id ? -1 : 1))
}

export function* webhookMediaPlan(dialect: SqlDialect, webhookId: string): Plan<MediaRecord[]> {
  const rows = yield* single(dialect.qb.selectFrom('media').selectAll().where('webhook_id', '=', webhookId).orderBy('id').compile())
  return rows.map(rowToMedia)
}

function decodeForwardCursor(cursor: string): string {
  const id = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : ''
  if (!isForwardId(id)) throw new MediagateError('bad_request', 'cursor is not one this server issued')
  return id
}

function rowToForward(r: ForwardRow): ForwardRecord {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    conversationKey: r.conversation_key,
    waitForMedia: r.wait_for_media === true || Number(r.wait_for_media) === 1,
    status: r.status as ForwardStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: toDate(r.next_attempt_at),
    leaseOwner: r.lease_owner,
    leaseExpiresAt: toDate(r.lease_expires_at),
    lastError: r.last_error,
    createdAt: new Date(Number(r.created_at)),
    sentAt: toDate(r.sent_at),
    updatedAt: new Date(Number(r.updated_at)),
  }
}

function toDate(value: number | null): Date | null {
  return value === null || value === undefined ? null : new Date(Number(value))
}
