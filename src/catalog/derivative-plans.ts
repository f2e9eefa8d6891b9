/**
 * Derived files and facts of media as plans for both engines (catalog.ts `Derivatives`).
 *
 * A derivation reserves its derivatives' blob keys before committing their blobs, the way a
 * capture leases its key (blob-plans.ts): the reservation is a derivative row without a size,
 * and a derivative row of a live media counts as a use of its key (`referencedBlobKeysPlan`), so
 * a deletion claim is refused from then on. The reservation itself is refused while a deletion
 * of the key is in progress, under the same per-key lock as the claims. On PostgreSQL the media
 * row is read FOR SHARE, so an erasure that tombstones it waits for the reservation to commit and
 * then sees its key (`derivedBlobKeys`).
 */
import type { DerivativeRecord, DerivativeReservation, DerivedOutcome } from './catalog.js'
import type { DeriveStatus } from '../media/record.js'
import { claimedKeys, lockKeys } from './blob-plans.js'
import { single, type Plan } from './plan.js'
import type { DerivativeRow, MediaTable } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

/** Media per `IN (…)` list. */
const IDS_PER_STATEMENT = 500

export function derivativeId(mediaId: string, name: string): string {
  return `${mediaId}.${name}`
}

export function* derivativesOfPlan(dialect: SqlDialect, mediaId: string): Plan<DerivativeRecord[]> {
  const rows = yield* single(dialect.qb.selectFrom('derivatives').selectAll().where('media_id', '=', mediaId).orderBy('name').compile())
  return rows.map(rowToDerivative)
}

export function* reserveDerivativesPlan(
  dialect: SqlDialect,
  items: { mediaId: string; name: string; blobKey: string; mimeType: string }[],
  now: number,
): Plan<DerivativeReservation[]> {
  const keys = [...new Set(items.map((i) => i.blobKey))]
  yield* lockKeys(dialect, keys)
  const deleting = yield* claimedKeys(dialect, keys, now, null)
  const answers: DerivativeReservation[] = []
  for (const item of items) {
    if (deleting.has(item.blobKey)) {
      answers.push('deleting')
      continue
    }
    const media = dialect.qb.selectFrom('media').select('id').where('id', '=', item.mediaId).where('status', '=', 'stored')
    const live = yield* single((dialect.name === 'postgres' ? media.forShare() : media).compile())
    if (live.length === 0) {
      answers.push('gone')
      continue
    }
    yield dialect.qb
      .insertInto('derivatives')
      .values({ id: derivativeId(item.mediaId, item.name), media_id: item.mediaId, name: item.name, blob_key: item.blobKey, mime_type: item.mimeType, size: null, created_at: now, updated_at: now })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          blob_key: eb.ref('excluded.blob_key'),
          mime_type: eb.ref('excluded.mime_type'),
          // The same bytes again stay served meanwhile; other bytes wait for their commit.
          size: eb.case().when('derivatives.blob_key', '=', eb.ref('excluded.blob_key')).then(eb.ref('derivatives.size')).else(null).end(),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .compile()
    answers.push('reserved')
  }
  return answers
}

export function* recordDerivedPlan(dialect: SqlDialect, mediaId: string, outcome: DerivedOutcome, now: number): Plan<boolean> {
  const { facts } = outcome
  const columns: Partial<MediaTable> = { derive_status: outcome.status, derive_error: outcome.error, updated_at: now }
  if (facts.width !== undefined) columns.width = facts.width
  if (facts.height !== undefined) columns.height = facts.height
  if (facts.durationMs !== undefined) columns.duration_ms = facts.durationMs
  if (facts.waveform !== undefined) columns.waveform = facts.waveform === null ? null : JSON.stringify(facts.waveform)
  if (facts.placeholder !== undefined) columns.placeholder = facts.placeholder
  const rows = yield* single(dialect.qb.updateTable('media').set(columns).where('id', '=', mediaId).where('status', '=', 'stored').returning('id').compile())
  if (rows.length === 0) return false
  for (const ready of outcome.ready) {
    yield dialect.qb
      .updateTable('derivatives')
      .set({ size: ready.size, updated_at: now })
      .where('id', '=', derivativeId(mediaId, ready.name))
      .where('blob_key', '=', ready.blobKey)
      .compile()
  }
  return true
}

export function* markDerivingPlan(dialect: SqlDialect, mediaIds: string[], status: DeriveStatus, error: string | null, now: number): Plan<number> {
  let marked = 0
  for (let i = 0; i < mediaIds.length; i += IDS_PER_STATEMENT) {
    const rows = yield* single(
      dialect.qb
        .updateTable('media')
        .set({ derive_status: status, derive_error: error, updated_at: now })
        .where('id', 'in', mediaIds.slice(i, i + IDS_PER_STATEMENT))
        .where('status', '=', 'stored')
        .returning('id')
        .compile(),
    )
    marked += rows.length
  }
  return marked
}

function rowToDerivative(r: DerivativeRow): DerivativeRecord {
  return {
    mediaId: r.media_id,
    name: r.name,
    blobKey: r.blob_key,
    mimeType: r.mime_type,
    size: r.size === null || r.size === undefined ? null : Number(r.size),
    updatedAt: new Date(Number(r.updated_at)),
  }
}
