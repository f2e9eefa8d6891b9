/**
 * `recordWebhooks` as one plan, run in one transaction: the webhook bodies (deduplicated by their
 * sha256) and their media (deduplicated by platform, message id and attachment index). Whatever
 * was recorded before, by this batch or an earlier one, is reused rather than written again.
 *
 * Which rows were new is all the plan needs back; the records are built from the rows we
 * inserted, which are complete (every column is set by `newMediaToRow`). How it learns that
 * differs by engine. PostgreSQL: a few multi-row statements with RETURNING, since every statement
 * is a round trip. SQLite: one prepared one-row INSERT per row, counted by its changes — a
 * statement is a function call there; the SQL never varies with the group's size (so it is never
 * prepared again), and no RETURNING temporary table or multi-row statement journal is written
 * (a quarter fewer writes per webhook, measured).
 */
import { createHash } from 'node:crypto'
import type { CompiledQuery } from 'kysely'
import type { IncomingWebhook, RecordedWebhook } from './catalog.js'
import { newMediaId, newWebhookId } from '../media/ids.js'
import { changes, single, type Plan } from './plan.js'
import { newMediaToRow, rowToMedia } from './row-mapping.js'
import type { MediaTable, WebhooksTable } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'
import { cachedInsert } from './statement-cache.js'

/** Rows per INSERT: 200 × 40 columns stays well under SQLite's 32766 and PostgreSQL's 65535 parameters. */
const ROWS_PER_INSERT = 200

export function* recordWebhooksPlan(dialect: SqlDialect, batch: IncomingWebhook[], now: number): Plan<RecordedWebhook[]> {
  const bodies = yield* recordBodies(dialect, batch)
  const rowsPerWebhook = batch.map((webhook, i) =>
    webhook.media.map((media) => newMediaToRow(media, { id: newMediaId(), webhookId: bodies[i]!.webhookId, receivedAt: webhook.receivedAt, now }, dialect)),
  )
  const insertMedia = (rows: MediaTable[]) =>
    dialect.qb
      .insertInto('media')
      .values(rows)
      .onConflict((oc) => oc.columns(['platform', 'message_id', 'attachment_index']).doNothing())
  const inserted = yield* insertNew(dialect, 'media', rowsPerWebhook.flat(), {
    one: (rows) => insertMedia(rows).compile(),
    many: (rows) => insertMedia(rows).returning('id').compile(),
  })
  return batch.map((_, i) => {
    const rows = rowsPerWebhook[i]!
    const created = rows.filter((row) => inserted.has(row.id)).map(rowToMedia)
    return { ...bodies[i]!, created, duplicates: rows.length - created.length }
  })
}

function* recordBodies(dialect: SqlDialect, batch: IncomingWebhook[]): Plan<{ webhookId: string; webhookCreated: boolean }[]> {
  const shas = batch.map((webhook) => createHash('sha256').update(webhook.body).digest('hex'))
  // The same bytes twice in one group: the first is the delivery, the rest are redeliveries.
  const fresh = new Map<string, WebhooksTable>()
  batch.forEach((webhook, i) => {
    const sha = shas[i]!
    if (fresh.has(sha)) return
    fresh.set(sha, { id: newWebhookId(), body_sha256: sha, object: webhook.object, received_at: webhook.receivedAt.getTime(), size: webhook.body.length, body: webhook.body })
  })
  const insertWebhooks = (rows: WebhooksTable[]) =>
    dialect.qb
      .insertInto('webhooks')
      .values(rows)
      .onConflict((oc) => oc.column('body_sha256').doNothing())
  const inserted = yield* insertNew(dialect, 'webhooks', [...fresh.values()], {
    one: (rows) => insertWebhooks(rows).compile(),
    many: (rows) => insertWebhooks(rows).returning('id').compile(),
  })
  const idBySha = new Map<string, string>()
  for (const row of fresh.values()) if (inserted.has(row.id)) idBySha.set(row.body_sha256, row.id)
  const known = [...fresh.keys()].filter((sha) => !idBySha.has(sha))
  if (known.length > 0) {
    const existing = yield* single(dialect.qb.selectFrom('webhooks').select(['id', 'body_sha256']).where('body_sha256', 'in', known).compile())
    for (const row of existing) idBySha.set(row.body_sha256, row.id)
  }
  const claimed = new Set<string>()
  return shas.map((sha) => {
    const webhookId = idBySha.get(sha)
    // Inside the same transaction as the conflicting insert, the row must be visible.
    if (webhookId === undefined) throw new Error(`webhook with body sha256 ${sha} conflicted but cannot be found`)
    const webhookCreated = inserted.has(webhookId) && !claimed.has(webhookId)
    claimed.add(webhookId)
    return { webhookId, webhookCreated }
  })
}

/**
 * Inserts `rows`, skipping those that conflict, and returns the ids of the rows inserted.
 * `one` is the statement for a single row without RETURNING, `many` a multi-row one returning ids.
 */
function* insertNew<R extends MediaTable | WebhooksTable>(
  dialect: SqlDialect,
  name: string,
  rows: R[],
  build: { one: (rows: R[]) => CompiledQuery; many: (rows: R[]) => CompiledQuery<{ id: string }> },
): Plan<Set<string>> {
  const ids = new Set<string>()
  if (dialect.name === 'sqlite') {
    for (const row of rows) {
      if ((yield* changes(cachedInsert(dialect, `${name}:one`, [row], build.one))) > 0) ids.add(row.id)
    }
    return ids
  }
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT)
    const returned = yield* single(cachedInsert(dialect, `${name}:returning-id`, chunk, build.many))
    for (const row of returned) ids.add(row.id)
  }
  return ids
}
