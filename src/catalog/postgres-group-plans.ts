/**
 * PostgreSQL's plans for the two writes every capture makes, its blob lease and its settlement,
 * for a whole group commit at once: one statement per group (an UPDATE per row of settlement),
 * whatever the group's size, instead of one per media, and one call of a function for the leases.
 * Each round trip costs the gateway a pg client call and the server (which shares the machine's
 * cores with the S3 server on the scale-out path) a backend wake-up and an execution; a
 * settlement group of N cost N of them. A group that is one statement runs without BEGIN and
 * COMMIT (plan.ts, `last`).
 *
 * Each row's values travel as one JSON object read with `json_populate_record(null::media, …)`:
 * the `media` row type types every value as its column, so the SQL depends only on which columns
 * are set, and a value reaches exactly the column its key names. Each row keeps its own
 * conditions in the WHERE (its id, its lease owner, still pending), so a settlement that lost its
 * lease is refused for that row alone, as the per-row statements did; the count triggers are row
 * triggers and fire per updated row as before.
 *
 * A group that names one media twice runs the per-row plans instead: one statement would update
 * the row twice, where the per-row statements apply the settlements in order.
 */
import { CompiledQuery } from 'kysely'
import type { BlobLease, BlobLeaseAnswer, NewTask, Settlement } from './catalog.js'
import { leaseBlobsPlan, lockIds } from './blob-plans.js'
import { settleManyPlan, settlementColumns, settleQuery } from './media-plans.js'
import { last, single, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'
import { enqueueTasksPlan } from './task-plans.js'

type SettleItem = { id: string; owner: string; settlement: Settlement }

export function* postgresSettleGroupPlan(dialect: SqlDialect, items: SettleItem[], now: number): Plan<boolean[]> {
  // Without tasks to queue, a group of one shape is one UPDATE: no transaction around it.
  const mayEnqueue = items.some(({ settlement }) => settlement.status === 'stored' && (settlement.enqueue?.length ?? 0) > 0)
  if (items.length === 1 && !mayEnqueue) {
    const [{ id, owner, settlement }] = items as [SettleItem]
    return [(yield* last(settleQuery(dialect, id, owner, settlement, now))).length > 0]
  }
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
  const query = settleGroupQuery([...shapes.values()], now)
  for (const row of yield* (mayEnqueue ? single(query) : last(query))) applied.add(row.id)
  const tasks: NewTask[] = []
  for (const { id, settlement } of items) {
    if (applied.has(id) && settlement.status === 'stored') for (const kind of settlement.enqueue ?? []) tasks.push({ kind, mediaId: id })
  }
  // The group's tasks in one statement, in the same transaction as the settlements that ask for them.
  if (tasks.length > 0) yield* enqueueTasksPlan(dialect, tasks, now)
  return items.map((item) => applied.has(item.id))
}

/**
 * The per-row settleQuery's SET and WHERE (media-plans.ts) for every row, in one statement: one
 * UPDATE per row, each in a data-modifying CTE, its values read from its JSON object. PostgreSQL
 * runs them in one snapshot, atomically, as the one statement they are; they touch distinct rows
 * (a group with an id twice takes the per-row plans), so no row is updated twice. Rows of one
 * shape sit together: the text (a prepared statement per connection, postgres-statement-names.ts)
 * varies with the group's size and its shapes in the order they first appear, not with its rows'
 * order.
 *
 * Each UPDATE finds its row by `id = $n` and `status = $2` (a parameter, 'pending'): with these
 * alone, a generic plan (kept for the connection's life) reads one row by an index on id whatever
 * the statistics said when it was made. A group UPDATE joined a JSON recordset with `media` on
 * `id = any($ids)`, `status = 'pending'` as a literal: made while `media` was new and unanalysed
 * (autovacuum off, or a new catalog), its plan hash-joined the group with every pending record,
 * read through a partial index on pending records, so a settlement's cost grew with the backlog.
 */
function settleGroupQuery(shapes: { columns: string[]; refund: boolean; rows: Record<string, unknown>[] }[], now: number): CompiledQuery<{ id: string }> {
  const parameters: unknown[] = [now, 'pending']
  const updates = shapes.flatMap(({ columns, refund, rows }) => {
    const set = columns.map((column) => `${id(column)} = v.${id(column)}`)
    set.push('"unfinished" = 0', '"lease_owner" = null', '"lease_expires_at" = null', '"updated_at" = $1')
    if (refund) set.push('"attempts" = m."attempts" - v."attempts"')
    return rows.map((row) => {
      const json = `$${parameters.push(JSON.stringify(row))}`
      const rowId = `$${parameters.push(row.id)}`
      return (
        `update "media" as m set ${set.join(', ')} from json_populate_record(null::"media", ${json}::json) as v ` +
        `where m."id" = ${rowId} and m."status" = $2 and m."lease_owner" = v."lease_owner" returning m."id"`
      )
    })
  })
  const text =
    updates.length === 1
      ? updates[0]!
      : `with ${updates.map((update, i) => `s${i} as (${update})`).join(', ')} ${updates.map((_, i) => `select "id" from s${i}`).join(' union all ')}`
  return CompiledQuery.raw(text, parameters) as CompiledQuery<{ id: string }>
}

/**
 * leaseBlobsPlan (blob-plans.ts) for leases on pending records, every capture's, in one call of
 * the function of migrations 15 and 16, run on its own: the same locks, reads and UPDATE (rows
 * taken with SKIP LOCKED, a skipped one answered `busy` if the record is still this capture's,
 * else `lost`) in one round trip instead of five. Lazy captures' leases (`holdMs`), rare, and a
 * group that names one media twice take the statements of leaseBlobsPlan.
 */
export function* postgresLeaseBlobsPlan(dialect: SqlDialect, leases: BlobLease[], now: number): Plan<BlobLeaseAnswer[]> {
  if (leases.some((lease) => lease.holdMs !== undefined) || !distinct(leases.map((lease) => lease.mediaId))) return yield* leaseBlobsPlan(dialect, leases, now)
  const rows = JSON.stringify(leases.map((lease) => ({ id: lease.mediaId, owner: lease.owner, blob_key: lease.blobKey })))
  const query = CompiledQuery.raw('select "media_id", "answer" from mediagate_lease_blobs($1::bigint[], $2::json, $3::bigint)', [
    lockIds(leases.map((lease) => lease.blobKey)),
    rows,
    now,
  ]) as CompiledQuery<{ media_id: string; answer: BlobLeaseAnswer }>
  const answers = new Map((yield* last(query)).map((row) => [row.media_id, row.answer]))
  return leases.map((lease) => answers.get(lease.mediaId) ?? 'lost')
}

function distinct(ids: string[]): boolean {
  return new Set(ids).size === ids.length
}

/** Column names come from the schema's own types, never from input; quoted all the same. */
function id(column: string): string {
  return `"${column.replace(/"/g, '""')}"`
}
