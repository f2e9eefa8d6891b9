/**
 * Records under the lazy and proxy policies wait as `remote`: these plans settle them when
 * their bytes arrive (lazy), note what a proxy pass verified, and find lazy media whose media
 * id is about to expire.
 */
import { sql } from 'kysely'
import type { LazyDueOptions, RemoteFacts, RemoteFailure, StoredOutcome } from './catalog.js'
import type { MediaRecord } from '../media/record.js'
import { enqueueOnStored, settlementColumns } from './media-plans.js'
import { single, type Plan } from './plan.js'
import { errorColumns, rowToMedia, scanColumns } from './row-mapping.js'
import type { SqlDialect } from './sql-dialect.js'

/**
 * remote → stored; undefined when the record is no longer remote (stored meanwhile, deleted).
 * The capture's blob lease ends here: the record now uses the key itself.
 */
export function* storeRemotePlan(dialect: SqlDialect, id: string, stored: StoredOutcome, now: number): Plan<MediaRecord | undefined> {
  const rows = yield* single(
    dialect.qb
      .updateTable('media')
      .set({ ...settlementColumns(stored, now), lease_owner: null, lease_expires_at: null, blob_lease_key: null, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'remote')
      .returningAll()
      .compile(),
  )
  if (rows[0]) yield* enqueueOnStored(dialect, id, stored, now)
  return rows[0] ? rowToMedia(rows[0]) : undefined
}

/**
 * remote → failed (a lazy capture whose bytes failed their scan); undefined when the record is
 * no longer remote. Like storeRemote, it ends the capture's blob lease.
 */
export function* failRemotePlan(dialect: SqlDialect, id: string, failure: RemoteFailure, now: number): Plan<MediaRecord | undefined> {
  const { bytes } = failure
  const rows = yield* single(
    dialect.qb
      .updateTable('media')
      .set({
        status: 'failed',
        sha256: bytes.sha256,
        size: bytes.size,
        sniffed_mime: bytes.sniffedMime,
        mime_type: bytes.mimeType,
        blob_key: failure.blobKey,
        next_attempt_at: null,
        ...errorColumns(failure.error),
        ...scanColumns(failure.scan),
        lease_owner: null,
        lease_expires_at: null,
        blob_lease_key: null,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'remote')
      .returningAll()
      .compile(),
  )
  return rows[0] ? rowToMedia(rows[0]) : undefined
}

/** Records what a proxy pass verified, so later answers carry an ETag; false if not remote. */
export function* learnRemotePlan(dialect: SqlDialect, id: string, facts: RemoteFacts, now: number): Plan<boolean> {
  const rows = yield* single(
    dialect.qb
      .updateTable('media')
      .set({ sha256: facts.sha256, size: facts.size, sniffed_mime: facts.sniffedMime, mime_type: facts.mimeType, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'remote')
      .returning('id')
      .compile(),
  )
  return rows.length > 0
}

/** Lazy records still remote whose source expires in [now, expiresBefore), soonest first. */
export function* lazyDuePlan(dialect: SqlDialect, options: LazyDueOptions, now: number): Plan<MediaRecord[]> {
  let query = dialect.qb
    .selectFrom('media')
    .selectAll()
    // A literal: media_status_source_expiry_idx holds pending and remote records only (migration 13).
    .where('status', '=', sql.lit('remote'))
    .where('policy', '=', 'lazy')
    .where('source_expires_at', '>', now)
    .where('source_expires_at', '<', options.expiresBefore.getTime())
  if (options.ids !== undefined) {
    if (options.ids.length === 0) return []
    query = query.where('id', 'in', options.ids)
  }
  const rows = yield* single(query.orderBy('source_expires_at').orderBy('id').limit(options.limit).compile())
  return rows.map(rowToMedia)
}
