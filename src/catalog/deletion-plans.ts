/**
 * Erasure in two steps, so that a blob store outage never loses track of bytes to delete:
 * `markDeletedPlan` turns records into tombstones that still hold their blob key; once the blob
 * is gone (or another live record still uses it), `releaseBlobKeysPlan` lets go of the key.
 * Tombstones that still hold a key are deletions not yet finished (`tombstoneBlobKeysQuery`).
 */
import type { ExpiredOptions } from './catalog.js'
import type { MediaRecord } from '../media/record.js'
import { single, type Plan } from './plan.js'
import { rowToMedia } from './row-mapping.js'
import type { SqlDialect } from './sql-dialect.js'

/** Ids per `IN (…)` list, far below either engine's limit on bound parameters. */
const IDS_PER_STATEMENT = 500

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += IDS_PER_STATEMENT) out.push(items.slice(i, i + IDS_PER_STATEMENT))
  return out
}

/**
 * Tombstones every listed record not yet deleted and returns all listed records that exist
 * (already deleted ones too, so erasure is idempotent). The tombstone keeps what an audit needs
 * (ids, platform, kind, sha256, size, times) and drops the user's content: caption, filename and
 * the source URL.
 */
export function* markDeletedPlan(dialect: SqlDialect, ids: string[], now: number): Plan<MediaRecord[]> {
  const unique = [...new Set(ids)]
  const records: MediaRecord[] = []
  for (const chunk of chunks(unique)) {
    yield dialect.qb
      .updateTable('media')
      .set({
        status: 'deleted',
        deleted_at: now,
        updated_at: now,
        caption: null,
        filename: null,
        title: null,
        source_url: null,
        next_attempt_at: null,
        lease_owner: null,
        lease_expires_at: null,
      })
      .where('id', 'in', chunk)
      .where('status', '<>', 'deleted')
      .compile()
    const rows = yield* single(dialect.qb.selectFrom('media').selectAll().where('id', 'in', chunk).compile())
    records.push(...rows.map(rowToMedia))
  }
  const order = new Map(unique.map((id, i) => [id, i]))
  return records.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
}

/** Of `keys`, those that a record that is not deleted still uses. */
export function* referencedBlobKeysPlan(dialect: SqlDialect, keys: string[]): Plan<string[]> {
  const referenced: string[] = []
  for (const chunk of chunks([...new Set(keys)])) {
    const rows = yield* single(
      dialect.qb
        .selectFrom('media')
        .select('blob_key')
        .distinct()
        .where('blob_key', 'in', chunk)
        .where('status', '<>', 'deleted')
        .compile(),
    )
    for (const row of rows) referenced.push(String(row.blob_key))
  }
  return referenced
}

/**
 * Tombstones stop holding these keys (their blobs are gone or belong to a live record).
 * Housekeeping, invisible in the API: `updated_at` stays the time of deletion.
 */
export function* releaseBlobKeysPlan(dialect: SqlDialect, keys: string[]): Plan<number> {
  let released = 0
  for (const chunk of chunks([...new Set(keys)])) {
    const rows = yield* single(
      dialect.qb
        .updateTable('media')
        .set({ blob_key: null })
        .where('status', '=', 'deleted')
        .where('blob_key', 'in', chunk)
        .returning('id')
        .compile(),
    )
    released += rows.length
  }
  return released
}

export function tombstoneBlobKeysQuery(dialect: SqlDialect, limit: number) {
  return dialect.qb
    .selectFrom('media')
    .select('blob_key')
    .distinct()
    .where('status', '=', 'deleted')
    .where('blob_key', 'is not', null)
    .orderBy('blob_key')
    .limit(limit)
    .compile()
}

/** Records not yet deleted that were received before the cutoff, oldest first. */
export function expiredQuery(dialect: SqlDialect, options: ExpiredOptions) {
  let query = dialect.qb
    .selectFrom('media')
    .select('id')
    .where('status', '<>', 'deleted')
    .where('received_at', '<', options.receivedBefore.getTime())
  if (options.platform !== undefined) query = query.where('platform', '=', options.platform)
  return query.orderBy('received_at').orderBy('id').limit(options.limit).compile()
}
