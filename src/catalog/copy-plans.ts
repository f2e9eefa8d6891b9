/**
 * Raw row export and import, for copying a whole catalog between engines (`migrate-data`).
 * Rows travel as the engines store them; only booleans differ (0/1 on SQLite, native on
 * PostgreSQL). A copy can be run again and again and converges on the source's state:
 * - a new id is inserted;
 * - a media or forward row present at both ends takes the version with the later `updated_at`,
 *   so what changed at the source since the last copy arrives, and a row the destination changed
 *   since (it has been serving) is left alone. Equal stamps are the same version;
 * - a tombstone is never replaced by a live row (an erasure is not undone by an older copy),
 *   and keeps the blob key the destination gave it until the destination's own erasure has
 *   deleted that blob (`migrate-data` finishes it), since the source's tombstone may already
 *   have let go of its key;
 * - a webhook never changes once recorded (same id, same bytes), so one already there is kept.
 * `compareRowsPlan` says in advance what `importRowsPlan` will do, so `migrate-data` copies
 * blobs only for rows that will be written, before writing them; the import checks the same
 * rule again in its `ON CONFLICT … WHERE`, so a row changed at the destination in between still
 * wins.
 */
import { sql } from 'kysely'
import type { CopyActivity, CopyTable, CopyVerdict } from './catalog.js'
import { single, type Plan, type Row } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

const BOOLEAN_COLUMNS: Record<CopyTable, readonly string[]> = { webhooks: [], media: ['voice', 'animated'], forwards: ['wait_for_media'], derivatives: [] }
/** What `changedSince` reads: when a row last changed (a webhook never does after it arrives). */
const CHANGE_COLUMN: Record<CopyTable, string> = { webhooks: 'received_at', media: 'updated_at', forwards: 'updated_at', derivatives: 'updated_at' }
const ROWS_PER_INSERT = 100
/** Ids per `IN (…)` list, far below either engine's limit on bound parameters. */
const IDS_PER_STATEMENT = 500

export function* exportRowsPlan(dialect: SqlDialect, table: CopyTable, afterId: string | null, limit: number, changedSince: number | null = null): Plan<Row[]> {
  let query = dialect.qb.selectFrom(table).selectAll()
  if (afterId !== null) query = query.where('id', '>', afterId)
  if (changedSince !== null) query = query.where(sql<boolean>`${sql.ref(CHANGE_COLUMN[table])} >= ${changedSince}`)
  return yield* single(query.orderBy('id').limit(limit).compile())
}

/** The version a row here has, as far as the copy rule needs it. */
interface Held {
  updatedAt: number
  deleted: boolean
}

export function* compareRowsPlan(dialect: SqlDialect, table: CopyTable, rows: Row[]): Plan<Record<string, CopyVerdict>> {
  const ids = [...new Set(rows.map((r) => String(r.id)))]
  const held = new Map<string, Held>()
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + IDS_PER_STATEMENT)
    if (table === 'webhooks') {
      for (const r of yield* single(dialect.qb.selectFrom('webhooks').select('id').where('id', 'in', chunk).compile())) held.set(r.id, { updatedAt: 0, deleted: false })
    } else if (table === 'derivatives') {
      const found = yield* single(dialect.qb.selectFrom('derivatives').select(['id', 'updated_at']).where('id', 'in', chunk).compile())
      for (const r of found) held.set(r.id, { updatedAt: Number(r.updated_at), deleted: false })
    } else {
      const found = yield* single(dialect.qb.selectFrom(table).select(['id', 'updated_at', 'status']).where('id', 'in', chunk).compile())
      for (const r of found) held.set(r.id, { updatedAt: Number(r.updated_at), deleted: table === 'media' && r.status === 'deleted' })
    }
  }
  // A media row needs its webhook first (foreign key); only a source written to during the
  // copy can have a webhook that arrived after the webhooks were copied.
  const parents = new Set<string>()
  if (table === 'media') {
    const wanted = [...new Set(rows.filter((r) => !held.has(String(r.id)) && r.webhook_id != null).map((r) => String(r.webhook_id)))]
    for (let i = 0; i < wanted.length; i += IDS_PER_STATEMENT) {
      const found = yield* single(dialect.qb.selectFrom('webhooks').select('id').where('id', 'in', wanted.slice(i, i + IDS_PER_STATEMENT)).compile())
      for (const r of found) parents.add(r.id)
    }
  }
  const verdicts: Record<string, CopyVerdict> = {}
  for (const row of rows) {
    const id = String(row.id)
    const here = held.get(id)
    if (!here) verdicts[id] = table === 'media' && row.webhook_id != null && !parents.has(String(row.webhook_id)) ? 'wait' : 'insert'
    else if (table === 'webhooks') verdicts[id] = 'same'
    else verdicts[id] = versionVerdict(here, Number(row.updated_at), row.status === 'deleted')
  }
  return verdicts
}

/** The copy rule for a row at both ends; `importRowsPlan`'s `ON CONFLICT … WHERE` is the same rule in SQL. */
function versionVerdict(here: Held, theirs: number, theirsDeleted: boolean): CopyVerdict {
  if (here.deleted && !theirsDeleted) return 'keep'
  return theirs > here.updatedAt ? 'update' : theirs === here.updatedAt ? 'same' : 'keep'
}

export function* importRowsPlan(dialect: SqlDialect, table: CopyTable, rows: Row[]): Plan<number> {
  const prepared = rows.map((row) => {
    const out: Row = { ...row }
    for (const column of BOOLEAN_COLUMNS[table]) {
      const v = out[column]
      out[column] = v === null || v === undefined ? null : dialect.bool(Boolean(v))
    }
    // A lease belongs to a process of the old deployment.
    if (table === 'media' || table === 'forwards') Object.assign(out, { lease_owner: null, lease_expires_at: null })
    return out
  })
  let written = 0
  for (let i = 0; i < prepared.length; i += ROWS_PER_INSERT) {
    const chunk = prepared.slice(i, i + ROWS_PER_INSERT)
    const insert = dialect.qb.insertInto(table).values(chunk as never)
    const returned = yield (
      table === 'webhooks'
        ? insert.onConflict((oc) => oc.column('id').doNothing())
        : insert.onConflict((oc) => oc.column('id').doUpdateSet(replacement(table, Object.keys(chunk[0]!)) as never).where(newer(table)))
    )
      .returning('id')
      .compile()
    written += returned.length
  }
  return written
}

/** Every column from the incoming row, but a tombstone keeps the blob key it holds here (see the file comment). */
function replacement(table: 'media' | 'forwards' | 'derivatives', columns: string[]): Record<string, unknown> {
  const set: Record<string, unknown> = {}
  for (const column of columns) if (column !== 'id') set[column] = sql.ref(`excluded.${column}`)
  if (table === 'media' && columns.includes('blob_key')) {
    set.blob_key = sql`case when ${sql.ref('excluded.status')} = 'deleted' and ${sql.ref('media.blob_key')} is not null then ${sql.ref('media.blob_key')} else ${sql.ref('excluded.blob_key')} end`
  }
  return set
}

/** `versionVerdict` in SQL: replace only with a newer version, and never a tombstone with a live row. */
function newer(table: 'media' | 'forwards' | 'derivatives') {
  const stamp = sql`${sql.ref(`${table}.updated_at`)} < ${sql.ref('excluded.updated_at')}`
  if (table !== 'media') return sql<boolean>`${stamp}`
  return sql<boolean>`${stamp} and (${sql.ref('media.status')} <> 'deleted' or ${sql.ref('excluded.status')} = 'deleted')`
}

/** Leases and latest changes of the copied tables, against the catalog's `now`. */
export function* copyActivityPlan(dialect: SqlDialect, now: number): Plan<CopyActivity> {
  const q = dialect.qb
  const tables = [
    ...(yield* single(q.selectFrom('webhooks').select((eb) => [eb.fn.countAll().as('rows'), eb.fn.max('received_at').as('last_change')]).compile())),
    ...(yield* leasedTable(dialect, 'media', now)),
    ...(yield* leasedTable(dialect, 'forwards', now)),
  ]
  let rows = 0
  let leases = 0
  let lastChange: number | null = null
  let leasedUntil: number | null = null
  for (const t of tables as { rows: unknown; last_change: unknown; leases?: unknown; leased_until?: unknown }[]) {
    rows += Number(t.rows)
    leases += Number(t.leases ?? 0)
    if (t.last_change != null) lastChange = Math.max(lastChange ?? 0, Number(t.last_change))
    if (t.leased_until != null) leasedUntil = Math.max(leasedUntil ?? 0, Number(t.leased_until))
  }
  return {
    now: new Date(now),
    leases,
    leasedUntil: leases > 0 && leasedUntil !== null ? new Date(leasedUntil) : null,
    lastChangeAt: lastChange === null ? null : new Date(lastChange),
    rows,
  }
}

function* leasedTable(dialect: SqlDialect, table: 'media' | 'forwards', now: number): Plan<Row[]> {
  const live = sql<boolean>`${sql.ref('lease_owner')} is not null and ${sql.ref('lease_expires_at')} > ${now}`
  return yield* single(
    dialect.qb
      .selectFrom(table)
      .select((eb) => [
        eb.fn.countAll().as('rows'),
        eb.fn.max('updated_at').as('last_change'),
        eb.fn.sum<number>(sql`case when ${live} then 1 else 0 end`).as('leases'),
        eb.fn.max(sql<number>`case when ${live} then ${sql.ref('lease_expires_at')} end`).as('leased_until'),
      ])
      .compile(),
  )
}
