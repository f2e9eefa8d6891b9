/**
 * Erasure in two steps, so that a blob store outage never loses track of bytes to delete:
 * `markDeletedPlan` turns records into tombstones that still hold their blob key; once the blob
 * is gone (or another live record still uses it), `releaseBlobKeysPlan` lets go of the key.
 * Tombstones that still hold a key are deletions not yet finished (`tombstoneBlobKeysQuery`).
 */
import { retireHandlesPlan } from './handle-plans.js'
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
        // Drawn from the content itself: a blurred picture, the loudness of a voice.
        placeholder: null,
        waveform: null,
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
  yield* retireHandlesPlan(dialect, records, now)
  const order = new Map(unique.map((id, i) => [id, i]))
  return records.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
}

/**
 * Of `keys`, those that a record that is not deleted still uses: as its own blob, or as one of its
 * derivatives (a reserved one too: its blob is about to be committed).
 */
export function* referencedBlobKeysPlan(dialect: SqlDialect, keys: string[]): Plan<string[]> {
  const referenced = new Set<string>()
  for (const chunk of chunks([...new Set(keys)])) {
    // One round trip per chunk: UNION both removes duplicates and asks the two tables at once.
    const rows = yield* single(
      dialect.qb
        .selectFrom('media')
        .select('blob_key')
        .where('blob_key', 'in', chunk)
        .where('status', '<>', 'deleted')
        .union(
          dialect.qb
            .selectFrom('derivatives as d')
            .innerJoin('media as m', 'm.id', 'd.media_id')
            .select('d.blob_key')
            .where('d.blob_key', 'in', chunk)
            .where('m.status', '<>', 'deleted'),
        )
        .compile(),
    )
    for (const row of rows) referenced.add(String(row.blob_key))
  }
  return [...referenced]
}

/** Blob keys of the derivatives of these media. */
export function* derivedBlobKeysPlan(dialect: SqlDialect, mediaIds: string[]): Plan<string[]> {
  const keys = new Set<string>()
  for (const chunk of chunks([...new Set(mediaIds)])) {
    const rows = yield* single(dialect.qb.selectFrom('derivatives').select('blob_key').distinct().where('media_id', 'in', chunk).compile())
    for (const row of rows) keys.add(row.blob_key)
  }
  return [...keys]
}

/** Deletes the derivative rows of tombstones that point at these keys (their blobs are gone or in use elsewhere). */
export function* releaseDerivedKeysPlan(dialect: SqlDialect, keys: string[]): Plan<number> {
  let released = 0
  for (const chunk of chunks([...new Set(keys)])) {
    const rows = yield* single(
      dialect.qb
        .deleteFrom('derivatives')
        .where('blob_key', 'in', chunk)
        .where('media_id', 'in', (eb) => eb.selectFrom('media').select('id').where('status', '=', 'deleted'))
        .returning('id')
        .compile(),
    )
    released += rows.length
  }
  return released
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
  return released + (yield* releaseDerivedKeysPlan(dialect, keys))
}

/** Keys tombstones still hold, their own and their derivatives', up to `limit`. */
export function* tombstoneBlobKeysPlan(dialect: SqlDialect, limit: number): Plan<string[]> {
  const own = yield* single(
    dialect.qb.selectFrom('media').select('blob_key').distinct().where('status', '=', 'deleted').where('blob_key', 'is not', null).orderBy('blob_key').limit(limit).compile(),
  )
  const keys = new Set(own.map((row) => String(row.blob_key)))
  if (keys.size >= limit) return [...keys]
  const derived = yield* single(
    dialect.qb
      .selectFrom('derivatives as d')
      .innerJoin('media as m', 'm.id', 'd.media_id')
      .select('d.blob_key')
      .distinct()
      .where('m.status', '=', 'deleted')
      .orderBy('d.blob_key')
      .limit(limit - keys.size)
      .compile(),
  )
  for (const row of derived) keys.add(row.blob_key)
  return [...keys]
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
