/**
 * What malware scans change in the catalog (src/scanning/), as plans for both engines: stored
 * media whose blob turned out infected become `failed`/`infected` and hold the key the blob was
 * quarantined under; an operator's release puts one back; forwards of their webhooks go out again
 * so the user's app hears about it.
 */
import type { MediaError, MediaRecord, ScanResult } from '../media/record.js'
import { ulid } from '../media/ids.js'
import { FORWARD_ID_PREFIX } from './forward-plans.js'
import { single, type Plan } from './plan.js'
import { errorColumns, rowToMedia, scanColumns } from './row-mapping.js'
import type { SqlDialect } from './sql-dialect.js'

/** Ids per `IN (…)` list, far below either engine's limit on bound parameters. */
const IDS_PER_STATEMENT = 500

/**
 * Every stored record using `blobKey` becomes `failed` with `error`, holds `quarantineKey` (or
 * nothing) instead, and records the scan; returns those records as they are now.
 */
export function* quarantineBlobPlan(dialect: SqlDialect, blobKey: string, quarantineKey: string | null, error: MediaError, scan: ScanResult, now: number): Plan<MediaRecord[]> {
  const rows = yield* single(
    dialect.qb
      .updateTable('media')
      .set({ status: 'failed', blob_key: quarantineKey, next_attempt_at: null, ...errorColumns(error), ...scanColumns(scan), updated_at: now })
      .where('status', '=', 'stored')
      .where('blob_key', '=', blobKey)
      .returningAll()
      .compile(),
  )
  return rows.map(rowToMedia).sort((a, b) => (a.id < b.id ? -1 : 1))
}

/** Stored records using `blobKey` record a scan that let them stay (a rescan); returns how many. */
export function* noteScanPlan(dialect: SqlDialect, blobKey: string, scan: ScanResult): Plan<number> {
  // Housekeeping of the scan columns only: `updated_at` stays, nothing the record says has changed.
  const rows = yield* single(dialect.qb.updateTable('media').set(scanColumns(scan)).where('status', '=', 'stored').where('blob_key', '=', blobKey).returning('id').compile())
  return rows.length
}

/**
 * An infected record released after review: `stored` again with its bytes back at `blobKey`, no
 * error, the scan marked released (the signature kept for the audit). Undefined when the record
 * is not failed as infected (released already, deleted, or never infected).
 */
export function* releaseInfectedPlan(dialect: SqlDialect, id: string, blobKey: string, now: number): Plan<MediaRecord | undefined> {
  const current = (yield* single(dialect.qb.selectFrom('media').selectAll().where('id', '=', id).compile()))[0]
  if (!current || current.status !== 'failed' || current.error_code !== 'infected') return undefined
  const scan: ScanResult = {
    status: 'skipped',
    engine: current.scan_engine ?? null,
    scannedAt: current.scanned_at === null ? null : new Date(Number(current.scanned_at)),
    signature: current.scan_signature ?? null,
    releasedAt: new Date(now),
  }
  const rows = yield* single(
    dialect.qb
      .updateTable('media')
      .set({ status: 'stored', blob_key: blobKey, stored_at: current.stored_at ?? now, ...errorColumns(null), ...scanColumns(scan), updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'failed')
      .where('error_code', '=', 'infected')
      .returningAll()
      .compile(),
  )
  return rows[0] ? rowToMedia(rows[0]) : undefined
}

/**
 * Sends the forwards of these webhooks again, under new ids (so an app that drops duplicates by
 * `X-Mediagate-Forward-Id` does not drop the news), after what its conversation already queued,
 * with a fresh budget; the body is built at delivery, with the media as they are then. A forward
 * still pending is left alone: it will carry the news. Returns how many were queued again.
 */
export function* resendForwardsPlan(dialect: SqlDialect, webhookIds: string[], now: number): Plan<number> {
  const unique = [...new Set(webhookIds)]
  let count = 0
  for (let i = 0; i < unique.length; i += IDS_PER_STATEMENT) {
    const rows = yield* single(
      dialect.qb
        .selectFrom('forwards')
        .select(['id'])
        .where('webhook_id', 'in', unique.slice(i, i + IDS_PER_STATEMENT))
        .where('status', '<>', 'pending')
        .orderBy('id')
        .compile(),
    )
    for (const row of rows) {
      yield dialect.qb
        .updateTable('forwards')
        .set({
          id: FORWARD_ID_PREFIX + ulid(now),
          status: 'pending',
          attempts: 0,
          unfinished: 0,
          next_attempt_at: now,
          lease_owner: null,
          lease_expires_at: null,
          last_error: null,
          sent_at: null,
          wait_for_media: dialect.bool(false)!,
          created_at: now,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .compile()
      count += 1
    }
  }
  return count
}
