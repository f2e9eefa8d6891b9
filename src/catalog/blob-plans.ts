/**
 * The catalog side of safe blob deletion (the protocol is in retention/blob-guard.ts). Blobs are
 * shared by content, so a blob may be deleted only while nothing is about to use it:
 * - a capture leases its blob key on its own pending record (`blob_lease_key`) before the store
 *   commits the bytes; the lease holds while the record is pending under a live job lease, so it
 *   ends with the settlement (no write needed) or with the lease of a process that died. A lazy
 *   capture leases the key on its remote record the same way, for a fixed time (`holdMs`: it has
 *   no job lease), and the settlement or an erasure ends it just as early;
 * - a deletion first claims the key in `blob_deletions`, which is refused while a live record
 *   uses the key or a capture holds a lease on it, and a lease is refused while a claim is held.
 * The two must not pass each other: on SQLite every transaction holds the write lock
 * (`BEGIN IMMEDIATE`), on PostgreSQL each takes a transaction-scoped advisory lock per key first,
 * so checks and writes on one key never interleave, whichever process makes them.
 */
import { referencedBlobKeysPlan, releaseDerivedKeysPlan } from './deletion-plans.js'
import { createHash } from 'node:crypto'
import { type CompiledQuery, type SelectQueryBuilder, sql, type UpdateObject } from 'kysely'
import type { BlobDeletionClaim, BlobLease, BlobLeaseAnswer } from './catalog.js'
import type { Database } from './schema.js'
import { single, type Plan } from './plan.js'
import { cachedStatement } from './statement-cache.js'
import type { SqlDialect } from './sql-dialect.js'

/** Keys per `IN (…)` list, far below either engine's limit on bound parameters. */
const KEYS_PER_STATEMENT = 500

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += KEYS_PER_STATEMENT) out.push(items.slice(i, i + KEYS_PER_STATEMENT))
  return out
}

/** A key's advisory lock id: 64 bits of its hash (a collision only makes two keys wait on each other). */
function lockId(key: string): bigint {
  return createHash('sha256').update(`mediagate:blob:${key}`).digest().readBigInt64BE(0)
}

/** The keys' advisory lock ids, distinct, in the one order every locker takes them (as decimal strings). */
export function lockIds(keys: string[]): string[] {
  return [...new Set(keys.map(lockId))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String)
}

/**
 * PostgreSQL: locks the keys until the transaction ends, in one order for every caller (no
 * deadlock between two claims). SQLite needs nothing: the transaction already holds the write lock.
 */
export function* lockKeys(dialect: SqlDialect, keys: string[]): Plan<void> {
  if (dialect.name !== 'postgres' || keys.length === 0) return
  const ids = lockIds(keys)
  // unnest yields the array in order, and each row's lock is taken before the next row is read.
  yield sql`select pg_advisory_xact_lock(id) from unnest(${ids}::bigint[]) as id`.compile(dialect.qb)
}

/** Of `keys`, those with an unexpired deletion claim not held by `claimant`. */
export function* claimedKeys(dialect: SqlDialect, keys: string[], now: number, claimant: string | null): Plan<Set<string>> {
  const found = new Set<string>()
  for (const chunk of chunks(keys)) {
    let query = dialect.qb.selectFrom('blob_deletions').select('blob_key').where('blob_key', 'in', chunk).where('expires_at', '>', now)
    if (claimant !== null) query = query.where('owner', '<>', claimant)
    for (const row of yield* single(query.compile())) found.add(row.blob_key)
  }
  return found
}

/**
 * Leases each blob key for its capture; one answer per lease, in order.
 */
export function* leaseBlobsPlan(dialect: SqlDialect, leases: BlobLease[], now: number): Plan<BlobLeaseAnswer[]> {
  const keys = [...new Set(leases.map((l) => l.blobKey))]
  yield* lockKeys(dialect, keys)
  const deleting = yield* claimedKeys(dialect, keys, now, null)
  const answers: BlobLeaseAnswer[] = []
  for (const lease of leases) {
    if (deleting.has(lease.blobKey)) answers.push('deleting')
    else if (lease.holdMs !== undefined) answers.push(yield* leaseRemotePlan(dialect, lease, lease.holdMs, now))
    else answers.push(yield* leasePendingPlan(dialect, lease, now))
  }
  return answers
}

function* leasePendingPlan(dialect: SqlDialect, lease: BlobLease, now: number): Plan<BlobLeaseAnswer> {
  // A lease that ran out protects nothing (see claimBlobDeletionsPlan): better not to commit.
  const ours = () =>
    dialect.qb
      .selectFrom('media')
      .select('id')
      .where('id', '=', lease.mediaId)
      .where('status', '=', 'pending')
      .where('lease_owner', '=', lease.owner)
      .where('lease_expires_at', '>', now)
  // Every capture leases its key: the UPDATE is compiled once and reused (statement-cache.ts).
  const update = cachedStatement(dialect, 'lease-pending', [lease.blobKey, lease.mediaId, 'pending', lease.owner, now], () => leaseUpdate(dialect, ours(), { blob_lease_key: lease.blobKey }))
  return yield* leaseWhere(dialect, ours, update)
}

/**
 * A remote record is free to lease unless a live lease holds another key (two captures that
 * received different bytes for one media: the second waits for the first to settle or expire).
 * A live lease of the same key is extended, never shortened.
 */
export function* leaseRemotePlan(dialect: SqlDialect, lease: BlobLease, holdMs: number, now: number): Plan<BlobLeaseAnswer> {
  const until = now + holdMs
  const ours = dialect.qb
    .selectFrom('media')
    .select('id')
    .where('id', '=', lease.mediaId)
    .where('status', '=', 'remote')
    .where((eb) =>
      eb.or([eb('blob_lease_key', 'is', null), eb('blob_lease_key', '=', lease.blobKey), eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]),
    )
  const held = sql<number>`case when ${sql.ref('blob_lease_key')} = ${lease.blobKey} and ${sql.ref('lease_expires_at')} > ${until} then ${sql.ref('lease_expires_at')} else ${until} end`
  const answer = yield* leaseWhere(dialect, () => ours, leaseUpdate(dialect, ours, { blob_lease_key: lease.blobKey, lease_owner: lease.owner, lease_expires_at: held }))
  if (answer !== 'lost') return answer
  // Still remote: another capture's lease on other bytes holds it for now.
  const remote = dialect.qb.selectFrom('media').select('id').where('id', '=', lease.mediaId).where('status', '=', 'remote')
  return (yield* single(remote.compile())).length > 0 ? 'busy' : 'lost'
}

/**
 * Sets the lease on the record `ours` selects. On PostgreSQL the row is taken with SKIP LOCKED:
 * a lease transaction updates several records, and so do lease renewals and erasures, each in an
 * order of its own; waiting for a row here could close a deadlock.
 */
function leaseUpdate(dialect: SqlDialect, ours: SelectQueryBuilder<Database, 'media', { id: string }>, columns: UpdateObject<Database, 'media'>): CompiledQuery<{ id: string }> {
  const target = dialect.name === 'postgres' ? ours.forUpdate().skipLocked() : ours
  return dialect.qb.updateTable('media').set(columns).where('id', 'in', target).returning('id').compile()
}

/** Runs a lease `update`; a row another transaction holds is answered `busy` (try again) unless the record is no longer this capture's. */
function* leaseWhere(dialect: SqlDialect, ours: () => SelectQueryBuilder<Database, 'media', { id: string }>, update: CompiledQuery<{ id: string }>): Plan<BlobLeaseAnswer> {
  const rows = yield* single(update)
  if (rows.length > 0) return 'leased'
  if (dialect.name === 'postgres' && (yield* single(ours().compile())).length > 0) return 'busy'
  return 'lost'
}

/** Claims the deletion of each key no live record uses, no capture has leased and no one else is deleting. */
export function* claimBlobDeletionsPlan(dialect: SqlDialect, keys: string[], claimant: string, now: number, claimMs: number): Plan<BlobDeletionClaim> {
  const unique = [...new Set(keys)].sort()
  yield* lockKeys(dialect, unique)
  const referenced = new Set(yield* referencedBlobKeysPlan(dialect, unique))
  const leased = new Set<string>()
  for (const chunk of chunks(unique)) {
    const leases = yield* single(
      dialect.qb
        .selectFrom('media')
        .select('blob_lease_key')
        .distinct()
        .where('blob_lease_key', 'in', chunk)
        // Literals, as in the predicate of media_blob_lease_idx (migration 13), so the planners may use it.
        .where((eb) => eb.or([eb('status', '=', sql.lit('pending')), eb('status', '=', sql.lit('remote'))]))
        .where('lease_expires_at', '>', now)
        .compile(),
    )
    for (const row of leases) leased.add(String(row.blob_lease_key))
  }
  const busy = yield* claimedKeys(dialect, unique, now, claimant)
  const result: BlobDeletionClaim = { claimed: [], referenced: [], leased: [], busy: [] }
  for (const key of unique) {
    if (referenced.has(key)) result.referenced.push(key)
    else if (leased.has(key)) result.leased.push(key)
    else if (busy.has(key)) result.busy.push(key)
    else result.claimed.push(key)
  }
  for (const chunk of chunks(result.claimed)) {
    yield dialect.qb
      .insertInto('blob_deletions')
      .values(chunk.map((key) => ({ blob_key: key, owner: claimant, expires_at: now + claimMs })))
      .onConflict((oc) => oc.column('blob_key').doUpdateSet((eb) => ({ owner: eb.ref('excluded.owner'), expires_at: eb.ref('excluded.expires_at') })))
      .compile()
  }
  return result
}

/**
 * Ends `claimant`'s claims on these keys. Tombstones let go of the `release` keys (their blobs are
 * gone, or a live record uses them); the `abandon` keys stay on their tombstones for the next
 * sweep (deleting failed). The claim of a claimant that died stays until the key is claimed again:
 * expired, it holds nothing back, and sweeping other claimants' rows here could deadlock.
 */
export function* endBlobDeletionsPlan(dialect: SqlDialect, claimant: string, release: string[], abandon: string[]): Plan<void> {
  const ended = [...new Set([...release, ...abandon])]
  for (const chunk of chunks(ended)) {
    yield dialect.qb.deleteFrom('blob_deletions').where('owner', '=', claimant).where('blob_key', 'in', chunk).compile()
  }
  for (const chunk of chunks([...new Set(release)])) {
    // Housekeeping, invisible in the API: `updated_at` stays the time of deletion.
    yield dialect.qb.updateTable('media').set({ blob_key: null }).where('status', '=', 'deleted').where('blob_key', 'in', chunk).compile()
  }
  yield* releaseDerivedKeysPlan(dialect, release)
}
