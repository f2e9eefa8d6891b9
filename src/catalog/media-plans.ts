/**
 * The catalog operations shared by both engines, as plans (see plan.ts). Only claiming differs
 * enough between SQLite and PostgreSQL to live with each engine.
 */
import type { CompiledQuery } from 'kysely'
import type { MediaSelection, NewTask, Page, Settlement } from './catalog.js'
import type { MediaError, MediaRecord } from '../media/record.js'
import { MediagateError } from '../errors.js'
import { checkLimit, decodeCursor, encodeCursor, filterExpression } from './media-filter.js'
import { single, type Plan } from './plan.js'
import { cachedStatement } from './statement-cache.js'
import { DERIVE_TASK, enqueueTasksPlan } from './task-plans.js'
import { errorColumns, rowToMedia, scanColumns } from './row-mapping.js'
import type { MediaRow, MediaTable } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

/** Ids per `IN (…)` list, far below either engine's limit on bound parameters. */
const IDS_PER_STATEMENT = 500

const NO_LEASE = { lease_owner: null, lease_expires_at: null } as const

/** Applies an outcome only while `owner` holds the lease (expired but not yet taken counts). */
export function* settlePlan(dialect: SqlDialect, id: string, owner: string, settlement: Settlement, now: number): Plan<boolean> {
  const rows = yield* single(settleQuery(dialect, id, owner, settlement, now))
  if (rows.length > 0 && settlement.status === 'stored') yield* enqueueOnStored(dialect, id, settlement, now)
  return rows.length > 0
}

/**
 * The settling UPDATE. A capture settles every media, so the common shapes (no refund) are
 * compiled once per set of columns and reused with each settlement's values: building the
 * statement with kysely cost more than running it.
 */
export function settleQuery(dialect: SqlDialect, id: string, owner: string, settlement: Settlement, now: number): CompiledQuery<{ id: string }> {
  const refund = settlement.status === 'retry' && settlement.refundAttempt === true
  const columns = { ...settlementColumns(settlement, now), unfinished: 0, ...NO_LEASE, updated_at: now }
  const build = () =>
    dialect.qb
      .updateTable('media')
      .set((eb) => ({ ...columns, ...(refund ? { attempts: eb('attempts', '-', 1) } : {}) }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'pending')
      .returning('id')
      .compile()
  if (refund) return build()
  const names = Object.keys(columns)
  // An undefined value is left out of the SET by kysely: such a shape is not one statement.
  const values: unknown[] = Object.values(columns)
  if (values.includes(undefined)) return build()
  values.push(id, owner, 'pending')
  return cachedStatement(dialect, `settle|${names.join(',')}`, values, build)
}

/** The tasks a stored settlement asks for, in its transaction, so a crash cannot store a media and lose its work. */
export function* enqueueOnStored(dialect: SqlDialect, id: string, stored: Extract<Settlement, { status: 'stored' }>, now: number): Plan<void> {
  const kinds = stored.enqueue ?? []
  if (kinds.length === 0) return
  yield* enqueueTasksPlan(dialect, kinds.map((kind) => ({ kind, mediaId: id })), now)
}

export function* settleManyPlan(dialect: SqlDialect, items: { id: string; owner: string; settlement: Settlement }[], now: number): Plan<boolean[]> {
  const applied: boolean[] = []
  const tasks: NewTask[] = []
  for (const { id, owner, settlement } of items) {
    const rows = yield* single(settleQuery(dialect, id, owner, settlement, now))
    applied.push(rows.length > 0)
    if (rows.length > 0 && settlement.status === 'stored') for (const kind of settlement.enqueue ?? []) tasks.push({ kind, mediaId: id })
  }
  // The group's tasks in one statement, in the same transaction as the settlements that ask for them.
  if (tasks.length > 0) yield* enqueueTasksPlan(dialect, tasks, now)
  return applied
}

export function settlementColumns(s: Settlement, now: number): Partial<MediaTable> {
  switch (s.status) {
    case 'stored':
      return {
        status: 'stored',
        sha256: s.sha256,
        size: s.size,
        blob_key: s.blobKey,
        sniffed_mime: s.sniffedMime,
        mime_type: s.mimeType,
        stored_at: s.storedAt?.getTime() ?? now,
        ...(s.refetchedAt ? { refetched_at: s.refetchedAt.getTime() } : {}),
        ...(s.kind ? { kind: s.kind } : {}),
        next_attempt_at: null,
        ...deriveColumns(s),
        ...errorColumns(null),
        ...(s.scan ? scanColumns(s.scan) : {}),
      }
    case 'retry':
      // The error stays visible while the record waits for its next attempt.
      return {
        status: 'pending',
        next_attempt_at: s.nextAttemptAt.getTime(),
        ...errorColumns(s.error),
        ...(s.kept ? { sha256: s.kept.sha256, size: s.kept.size, blob_key: s.kept.blobKey, sniffed_mime: s.kept.sniffedMime, mime_type: s.kept.mimeType } : {}),
        ...(s.scan ? scanColumns(s.scan) : {}),
      }
    case 'failed':
      return {
        status: 'failed',
        next_attempt_at: null,
        ...errorColumns(s.error),
        ...(s.scan ? scanColumns(s.scan) : {}),
        ...(s.kept ? { sha256: s.kept.sha256, size: s.kept.size, sniffed_mime: s.kept.sniffedMime, mime_type: s.kept.mimeType } : {}),
        ...(s.blobKey !== undefined ? { blob_key: s.blobKey } : {}),
      }
  }
}

/** Where deriving stands once the media is stored: queued, skipped at once, or untouched (deriving is off). */
function deriveColumns(s: Extract<Settlement, { status: 'stored' }>): Partial<MediaTable> {
  if (s.enqueue?.includes(DERIVE_TASK)) return { derive_status: 'pending', derive_error: null }
  if (s.deriveSkipped !== undefined) return { derive_status: 'skipped', derive_error: s.deriveSkipped }
  return {}
}

export function* renewLeasesPlan(dialect: SqlDialect, ids: string[], owner: string, leaseMs: number, now: number): Plan<string[]> {
  const renewed: string[] = []
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + IDS_PER_STATEMENT)
    // On PostgreSQL an UPDATE locks its rows in the order its scan meets them, which for a bitmap
    // scan is where each row's current version lies; two renewals of the same records (or one and a
    // settlement) reading them at different moments met them in different orders and deadlocked
    // (seen in CI). Locked first in id order, every renewal takes them in one order.
    const rows = yield* single(
      dialect.qb
        .updateTable('media')
        .set({ lease_expires_at: now + leaseMs })
        .where(
          'id',
          'in',
          dialect.name === 'postgres'
            ? dialect.qb.selectFrom('media').select('id').where('id', 'in', chunk).where('lease_owner', '=', owner).where('status', '=', 'pending').orderBy('id').forUpdate()
            : chunk,
        )
        .where('lease_owner', '=', owner)
        .where('status', '=', 'pending')
        .returning('id')
        .compile(),
    )
    for (const row of rows) renewed.push(row.id)
  }
  return renewed
}

/** A leased job is due again when its lease runs out, not at its (past) next_attempt_at. */
export function nextDueQuery(dialect: SqlDialect) {
  return dialect.qb
    .selectFrom('media')
    .select((eb) =>
      eb.fn
        .min(
          eb
            .case()
            .when(eb.and([eb('lease_expires_at', 'is not', null), eb('lease_expires_at', '>', eb.ref('next_attempt_at'))]))
            .then(eb.ref('lease_expires_at'))
            .else(eb.ref('next_attempt_at'))
            .end(),
        )
        .as('due'),
    )
    .where('status', '=', 'pending')
    .compile()
}

export function getQuery(dialect: SqlDialect, id: string): CompiledQuery<MediaRow> {
  return dialect.qb.selectFrom('media').selectAll().where('id', '=', id).compile()
}

/**
 * Records a search (`q`) examines per page. No index serves a substring, so a rare term would
 * otherwise read the whole table in one statement (seconds at a million records, holding the
 * SQLite thread); bounded, a page costs at most this many rows and the caller pages on.
 */
export const SEARCH_WINDOW = 100_000

export function* listPlan(dialect: SqlDialect, filter: MediaSelection, limit: number, cursor: string | undefined, searchWindow = SEARCH_WINDOW): Plan<Page<MediaRecord>> {
  checkLimit(limit)
  if (!Number.isInteger(searchWindow) || searchWindow < 1) throw new MediagateError('bad_request', 'searchWindow must be a whole number above 0')
  const after = cursor === undefined ? undefined : decodeCursor(cursor)
  // The oldest id of the window: read from the primary key alone, so it costs an index walk.
  const floor = filter.q === undefined ? undefined : yield* windowFloor(dialect, after, searchWindow)
  let query = dialect.qb
    .selectFrom('media')
    .selectAll()
    .where((eb) => filterExpression(eb, filter))
  if (after !== undefined) query = query.where('id', '<', after)
  if (floor !== undefined) query = query.where('id', '>=', floor)
  // One row more than asked tells whether another page exists without a count.
  const rows = yield* single(query.orderBy('id', 'desc').limit(limit + 1).compile())
  const data = rows.slice(0, limit).map(rowToMedia)
  const last = data.at(-1)
  if (rows.length > limit && last) return { data, nextCursor: encodeCursor(last.id) }
  // The window ended before the page filled: older records remain to be searched below it.
  return { data, nextCursor: floor !== undefined ? encodeCursor(floor) : null }
}

/** The id `window` records below `after` (newest first), or undefined when fewer remain. */
function* windowFloor(dialect: SqlDialect, after: string | undefined, window: number): Plan<string | undefined> {
  let query = dialect.qb.selectFrom('media').select('id')
  if (after !== undefined) query = query.where('id', '<', after)
  const rows = yield* single(query.orderBy('id', 'desc').limit(1).offset(window - 1).compile())
  return rows[0]?.id
}

/**
 * Failed → pending, due now, with a fresh attempt budget and no error. Not infected media: their
 * bytes are in quarantine, and only a release (`mediagate scan --release`) puts them back.
 */
export function* requeuePlan(dialect: SqlDialect, filter: MediaSelection, now: number): Plan<number> {
  if (filter.status !== undefined && filter.status !== 'failed') return 0
  const idChunks: (string[] | undefined)[] = [undefined]
  if (filter.ids !== undefined) {
    idChunks.length = 0
    for (let i = 0; i < filter.ids.length; i += IDS_PER_STATEMENT) idChunks.push(filter.ids.slice(i, i + IDS_PER_STATEMENT))
  }
  let count = 0
  for (const ids of idChunks) {
    const rows = yield* single(
      dialect.qb
        .updateTable('media')
        .set({ status: 'pending', attempts: 0, next_attempt_at: now, ...NO_LEASE, ...errorColumns(null), updated_at: now })
        .where('status', '=', 'failed')
        .where((eb) => eb.or([eb('error_code', 'is', null), eb('error_code', '<>', 'infected')]))
        .where((eb) => filterExpression(eb, { ...filter, ...(ids ? { ids } : {}) }))
        .returning('id')
        .compile(),
    )
    count += rows.length
  }
  return count
}

export function webhookBodyQuery(dialect: SqlDialect, webhookId: string) {
  return dialect.qb.selectFrom('webhooks').select('body').where('id', '=', webhookId).compile()
}

/** Stored records whose blob turned out corrupt or missing become `failed` (retryable by hand). */
export function* failBlobPlan(dialect: SqlDialect, blobKey: string, error: MediaError, now: number): Plan<number> {
  const rows = yield* single(
    dialect.qb
      .updateTable('media')
      .set({ status: 'failed', ...errorColumns(error), updated_at: now })
      .where('status', '=', 'stored')
      .where('blob_key', '=', blobKey)
      .returning('id')
      .compile(),
  )
  return rows.length
}
