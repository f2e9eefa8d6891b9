/**
 * Outbound media and the handle cache as plans for both engines (catalog.ts `OutboundMedia`).
 * The handle row is the lock of its upload: inserted (or taken over) as `uploading` under a
 * lease in one transaction, so concurrent requests, in one process or several, make exactly one
 * upload. The takeover is a conditional UPDATE, which PostgreSQL re-checks on the locked row
 * and SQLite runs under its single writer: two takers cannot both win.
 */
import type { HandleClaim, HandleClaimOptions, HandleKey, MediaHandle, MetaDeletion, UploadedHandle } from './catalog.js'
import { enqueueTasksPlan, META_DELETE_TASK } from './task-plans.js'
import type { MediaRecord, NewMedia, Platform } from '../media/record.js'
import { newMediaId, ulid } from '../media/ids.js'
import { single, type Plan } from './plan.js'
import { newMediaToRow, rowToMedia } from './row-mapping.js'
import { derivativeId } from './derivative-plans.js'
import type { ExpressionBuilder } from 'kysely'
import type { Database, MediaHandleRow } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

export function* recordOutboundPlan(dialect: SqlDialect, media: NewMedia, now: number): Plan<MediaRecord> {
  const id = newMediaId(now)
  const row = newMediaToRow({ ...media, messageId: media.messageId || `out_${id}`, policy: 'lazy' }, { id, webhookId: null, receivedAt: new Date(now), now }, dialect)
  const rows = yield* single(dialect.qb.insertInto('media').values(row).returningAll().compile())
  return rowToMedia(rows[0]!)
}

/** The row of one cached upload: a predicate shared by every statement on it. */
function sameKey(key: HandleKey) {
  return (eb: ExpressionBuilder<Database, 'media_handles'>) =>
    eb.and([eb('source_sha256', '=', key.sourceSha256), eb('variant', '=', key.variant), eb('platform', '=', key.platform), eb('account_id', '=', key.accountId)])
}

function whereKey(dialect: SqlDialect, key: HandleKey) {
  return dialect.qb.selectFrom('media_handles').selectAll().where(sameKey(key))
}

export function* claimHandlePlan(dialect: SqlDialect, o: HandleClaimOptions, now: number): Plan<HandleClaim> {
  const leaseExpiresAt = now + o.leaseMs
  const inserted = yield* single(
    dialect.qb
      .insertInto('media_handles')
      .values({
        id: `hdl_${ulid(now)}`,
        source_sha256: o.sourceSha256,
        variant: o.variant,
        platform: o.platform,
        account_id: o.accountId,
        media_id: o.mediaId,
        status: 'uploading',
        lease_owner: o.owner,
        lease_expires_at: leaseExpiresAt,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['source_sha256', 'variant', 'platform', 'account_id']).doNothing())
      .returning('id')
      .compile(),
  )
  if (inserted.length > 0) return { status: 'claimed' }
  const [row] = yield* single(whereKey(dialect, o).compile())
  // Deleted by an abandoned upload between the two statements: ask again at once.
  if (!row) return { status: 'busy', leaseExpiresAt: new Date(now) }
  const validAfter = now + o.marginMs
  if (row.status === 'ready' && Number(row.expires_at) > validAfter) return { status: 'ready', handle: rowToHandle(row) }
  if (row.status === 'uploading' && Number(row.lease_expires_at) > now) return { status: 'busy', leaseExpiresAt: new Date(Number(row.lease_expires_at)) }
  // A handle near its expiry, or an upload whose process died: take it over, if no one else did.
  const taken = yield* single(
    dialect.qb
      .updateTable('media_handles')
      .set({ status: 'uploading', media_id: o.mediaId, lease_owner: o.owner, lease_expires_at: leaseExpiresAt, updated_at: now })
      .where('id', '=', row.id)
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'ready'), eb('expires_at', '<=', validAfter)]),
          eb.and([eb('status', '=', 'uploading'), eb('lease_expires_at', '<=', now)]),
        ]),
      )
      .returning('id')
      .compile(),
  )
  return taken.length > 0 ? { status: 'claimed' } : { status: 'busy', leaseExpiresAt: new Date(now) }
}

/** The read-only half of a claim: a ready handle valid beyond the margin, if there is one (no write, no lock). */
export function* readyHandlePlan(dialect: SqlDialect, o: HandleClaimOptions, now: number): Plan<MediaHandle | undefined> {
  const [row] = yield* single(whereKey(dialect, o).where('status', '=', 'ready').where('expires_at', '>', now + o.marginMs).compile())
  return row ? rowToHandle(row) : undefined
}

export function* completeHandlePlan(dialect: SqlDialect, key: HandleKey, owner: string, up: UploadedHandle, now: number): Plan<MediaHandle | undefined> {
  const rows = yield* single(
    dialect.qb
      .updateTable('media_handles')
      .set({ status: 'ready', handle: up.handle, sha256: up.sha256, size: up.size, mime_type: up.mimeType, expires_at: up.expiresAt.getTime(), lease_owner: null, lease_expires_at: null, updated_at: now })
      .where(sameKey(key))
      .where('status', '=', 'uploading')
      .where('lease_owner', '=', owner)
      .returningAll()
      .compile(),
  )
  return rows[0] ? rowToHandle(rows[0]) : undefined
}

export function* abandonHandlePlan(dialect: SqlDialect, key: HandleKey, owner: string): Plan<void> {
  yield* single(dialect.qb.deleteFrom('media_handles').where(sameKey(key)).where('status', '=', 'uploading').where('lease_owner', '=', owner).compile())
}

/** Extends the claimant's lease while its upload runs; false if the claim was lost (taken over or gone). */
export function* renewHandlePlan(dialect: SqlDialect, key: HandleKey, owner: string, leaseMs: number, now: number): Plan<boolean> {
  const rows = yield* single(
    dialect.qb
      .updateTable('media_handles')
      .set({ lease_expires_at: now + leaseMs, updated_at: now })
      .where(sameKey(key))
      .where('status', '=', 'uploading')
      .where('lease_owner', '=', owner)
      .returning('id')
      .compile(),
  )
  return rows.length > 0
}

export function* handlesOfPlan(dialect: SqlDialect, sourceSha256s: string[]): Plan<MediaHandle[]> {
  const rows = yield* single(dialect.qb.selectFrom('media_handles').selectAll().where('source_sha256', 'in', sourceSha256s).where('status', '=', 'ready').orderBy('created_at').orderBy('id').compile())
  return rows.map(rowToHandle)
}

function rowToHandle(r: MediaHandleRow): MediaHandle {
  return {
    sourceSha256: r.source_sha256,
    variant: r.variant,
    platform: r.platform as Platform,
    accountId: r.account_id,
    mediaId: r.media_id,
    handle: r.handle ?? '',
    sha256: r.sha256 ?? '',
    size: Number(r.size ?? 0),
    mimeType: r.mime_type ?? '',
    expiresAt: new Date(Number(r.expires_at ?? 0)),
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  }
}

export function* completeConversionPlan(dialect: SqlDialect, mediaId: string, name: string, blobKey: string, size: number, now: number): Plan<boolean> {
  const rows = yield* single(
    dialect.qb.updateTable('derivatives').set({ size, updated_at: now }).where('id', '=', derivativeId(mediaId, name)).where('blob_key', '=', blobKey).returning('id').compile(),
  )
  return rows.length > 0
}

/**
 * Part of erasure (markDeletedPlan): the handles of erased bytes that no live record holds any
 * more are forgotten, and the WhatsApp ones queued for deletion at Meta with a task per media.
 */
export function* retireHandlesPlan(dialect: SqlDialect, erased: MediaRecord[], now: number): Plan<void> {
  const bySha = new Map<string, string>()
  for (const r of erased) if (r.status === 'deleted' && r.sha256 && !bySha.has(r.sha256)) bySha.set(r.sha256, r.id)
  if (bySha.size === 0) return
  const shas = [...bySha.keys()]
  const live = yield* single(dialect.qb.selectFrom('media').select('sha256').where('sha256', 'in', shas).where('status', '<>', 'deleted').compile())
  for (const row of live) if (row.sha256) bySha.delete(row.sha256)
  if (bySha.size === 0) return
  const rows = yield* single(dialect.qb.selectFrom('media_handles').selectAll().where('source_sha256', 'in', [...bySha.keys()]).where('status', '=', 'ready').compile())
  if (rows.length === 0) return
  const deletions = rows
    .filter((r) => r.platform === 'whatsapp' && r.handle)
    .map((r) => ({ id: r.id, media_id: bySha.get(r.source_sha256)!, platform: r.platform, account_id: r.account_id, handle: r.handle!, created_at: now }))
  if (deletions.length > 0) {
    yield dialect.qb.insertInto('handle_deletions').values(deletions).onConflict((oc) => oc.column('id').doNothing()).compile()
    yield* enqueueTasksPlan(dialect, [...new Set(deletions.map((d) => d.media_id))].map((mediaId) => ({ kind: META_DELETE_TASK, mediaId })), now)
  }
  yield dialect.qb.deleteFrom('media_handles').where('id', 'in', rows.map((r) => r.id)).compile()
}

export function* metaDeletionsOfPlan(dialect: SqlDialect, mediaId: string): Plan<MetaDeletion[]> {
  const rows = yield* single(dialect.qb.selectFrom('handle_deletions').selectAll().where('media_id', '=', mediaId).orderBy('id').compile())
  return rows.map((r) => ({ id: r.id, mediaId: r.media_id, platform: r.platform as Platform, accountId: r.account_id, handle: r.handle }))
}

export function* endMetaDeletionPlan(dialect: SqlDialect, id: string): Plan<void> {
  yield* single(dialect.qb.deleteFrom('handle_deletions').where('id', '=', id).compile())
}
