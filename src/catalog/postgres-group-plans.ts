/**
 * PostgreSQL's plans for the two writes every capture makes, its blob lease and its settlement,
 * for a whole group commit at once: one UPDATE per group (per shape of settlement), whatever the
 * group's size, instead of one per media. Each round trip costs the gateway a pg client call and
 * the server (which shares the machine's cores with the S3 server on the scale-out path) a parse,
 * plan and execution; a settlement group of N cost N of them.
 *
 * The rows travel as one JSON array read with `json_populate_recordset(null::media, …)`: the
 * `media` row type types every value as its column, so the SQL depends only on which columns are
 * set, and a value reaches exactly the column its key names. Each row keeps its own conditions in
 * the WHERE (its id, its lease owner, still pending), so a settlement or lease that lost its
 * lease is refused for that row alone, as the per-row statements did; the count triggers are row
 * triggers and fire per updated row as before.
 *
 * A group that names one media twice runs the per-row plans instead: in one UPDATE … FROM, a row
 * that several source rows match is updated once, with any of them, where the per-row statements
 * apply them in order.
 */
import { CompiledQuery } from 'kysely'
import type { BlobLease, BlobLeaseAnswer, NewTask, Settlement } from './catalog.js'
import { claimedKeys, leaseBlobsPlan, leaseRemotePlan, lockKeys } from './blob-plans.js'
import { settleManyPlan, settlementColumns } from './media-plans.js'
import { single, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'
import { enqueueTasksPlan } from './task-plans.js'

type SettleItem = { id: string; owner: string; settlement: Settlement }

export function* postgresSettleGroupPlan(dialect: SqlDialect, items: SettleItem[], now: number): Plan<boolean[]> {
  if (items.length < 2 || !distinct(items.map((item) => item.id))) return yield* settleManyPlan(dialect, items, now)
  const shapes = new Map<string, { columns: string[]; refund: boolean; rows: Record<string, unknown>[] }>()
  for (const { id, owner, settlement } of items) {
    const refund = settlement.status === 'retry' && settlement.refundAttempt === true
    // An undefined value is left out of the SET, as kysely leaves it out of the per-row statement.
    const set = Object.entries(settlementColumns(settlement, now)).filter(([, value]) => value !== undefined)
    const columns = set.map(([column]) => column)
    const key = `${refund}|${columns.join(',')}`
    let shape = shapes.get(key)
    if (!shape) shapes.set(key, (shape = { columns, refund, rows: [] }))
    // `lease_owner` carries the owner the row must still have; the SET clears it.
    shape.rows.push({ ...Object.fromEntries(set), id, lease_owner: owner, ...(refund ? { attempts: 1 } : {}) })
  }
  const applied = new Set<string>()
  for (const { columns, refund, rows } of shapes.values()) {
    for (const row of yield* single(settleGroupQuery(columns, refund, rows, now))) applied.add(row.id)
  }
  const tasks: NewTask[] = []
  for (const { id, settlement } of items) {
    if (applied.has(id) && settlement.status === 'stored') for (const kind of settlement.enqueue ?? []) tasks.push({ kind, mediaId: id })
  }
  // The group's tasks in one statement, in the same transaction as the settlements that ask for them.
  if (tasks.length > 0) yield* enqueueTasksPlan(dialect, tasks, now)
  return items.map((item) => applied.has(item.id))
}

/** The per-row settleQuery's SET and WHERE (media-plans.ts), for every row of one shape. */
function settleGroupQuery(columns: string[], refund: boolean, rows: Record<string, unknown>[], now: number): CompiledQuery<{ id: string }> {
  const set = columns.map((column) => `${id(column)} = v.${id(column)}`)
  set.push('"unfinished" = 0', '"lease_owner" = null', '"lease_expires_at" = null', '"updated_at" = $2')
  if (refund) set.push('"attempts" = m."attempts" - v."attempts"')
  return CompiledQuery.raw(
    `update "media" as m set ${set.join(', ')} from json_populate_recordset(null::"media", $1::json) as v ` +
      `where m."id" = v."id" and m."lease_owner" = v."lease_owner" and m."status" = 'pending' returning m."id"`,
    [JSON.stringify(rows), now],
  ) as CompiledQuery<{ id: string }>
}

/**
 * leaseBlobsPlan (blob-plans.ts) with the leases on pending records, every capture's, in one
 * UPDATE. Their rows are taken with SKIP LOCKED as the per-row UPDATE takes them, and a lease
 * whose row was skipped is answered `busy` if the record is still this capture's, else `lost`.
 */
export function* postgresLeaseBlobsPlan(dialect: SqlDialect, leases: BlobLease[], now: number): Plan<BlobLeaseAnswer[]> {
  if (leases.length < 2 || !distinct(leases.map((lease) => lease.mediaId))) return yield* leaseBlobsPlan(dialect, leases, now)
  const keys = [...new Set(leases.map((l) => l.blobKey))]
  yield* lockKeys(dialect, keys)
  const deleting = yield* claimedKeys(dialect, keys, now, null)
  const answers: (BlobLeaseAnswer | undefined)[] = []
  const pending: BlobLease[] = []
  for (const lease of leases) {
    if (deleting.has(lease.blobKey)) answers.push('deleting')
    else if (lease.holdMs !== undefined) answers.push(yield* leaseRemotePlan(dialect, lease, lease.holdMs, now))
    else {
      answers.push(undefined)
      pending.push(lease)
    }
  }
  if (pending.length === 0) return answers as BlobLeaseAnswer[]
  const rows = JSON.stringify(pending.map((lease) => ({ id: lease.mediaId, lease_owner: lease.owner, blob_lease_key: lease.blobKey })))
  const leased = new Set((yield* single(leaseGroupQuery(rows, now))).map((row) => row.id))
  const missed = pending.filter((lease) => !leased.has(lease.mediaId))
  // Rows skipped because another transaction holds them: still ours, so try again.
  const busy = missed.length === 0 ? new Set<string>() : new Set((yield* single(oursQuery(JSON.stringify(missed.map((l) => ({ id: l.mediaId, lease_owner: l.owner }))), now, false))).map((row) => row.id))
  return leases.map((lease, i) => answers[i] ?? (leased.has(lease.mediaId) ? 'leased' : busy.has(lease.mediaId) ? 'busy' : 'lost'))
}

function leaseGroupQuery(rows: string, now: number): CompiledQuery<{ id: string }> {
  const ours = oursQuery(rows, now, true)
  return CompiledQuery.raw(`with ours as (${ours.sql}) update "media" as m set "blob_lease_key" = ours."blob_lease_key" from ours where m."id" = ours."id" returning m."id"`, [
    ...ours.parameters,
  ]) as CompiledQuery<{ id: string }>
}

/** The leases' records still pending under a live lease of their owner (leasePendingPlan's `ours`). */
function oursQuery(rows: string, now: number, lock: boolean): CompiledQuery<{ id: string; blob_lease_key: string }> {
  return CompiledQuery.raw(
    `select r."id", v."blob_lease_key" from json_populate_recordset(null::"media", $1::json) as v join "media" as r on r."id" = v."id" ` +
      `where r."status" = 'pending' and r."lease_owner" = v."lease_owner" and r."lease_expires_at" > $2${lock ? ' for update of r skip locked' : ''}`,
    [rows, now],
  ) as CompiledQuery<{ id: string; blob_lease_key: string }>
}

function distinct(ids: string[]): boolean {
  return new Set(ids).size === ids.length
}

/** Column names come from the schema's own types, never from input; quoted all the same. */
function id(column: string): string {
  return `"${column.replace(/"/g, '""')}"`
}
