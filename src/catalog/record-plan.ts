/**
 * `recordWebhooks` as one plan, run in one transaction: the webhook body (deduplicated by its
 * sha256) and its media (deduplicated by platform, message id and attachment index). Whatever
 * was recorded before, by this batch or an earlier one, is reused rather than written again.
 */
import { createHash } from 'node:crypto'
import type { IncomingWebhook, RecordedWebhook } from './catalog.js'
import { newMediaId, newWebhookId } from '../media/ids.js'
import type { MediaRecord } from '../media/record.js'
import type { Plan } from './plan.js'
import { newMediaToRow, rowToMedia } from './row-mapping.js'
import type { SqlDialect } from './sql-dialect.js'

/** Rows per INSERT: well under SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const ROWS_PER_INSERT = 200

export function* recordWebhooksPlan(dialect: SqlDialect, batch: IncomingWebhook[], now: number): Plan<RecordedWebhook[]> {
  const results: RecordedWebhook[] = []
  for (const webhook of batch) {
    const { webhookId, webhookCreated } = yield* recordBody(dialect, webhook)
    const rows = webhook.media.map((media) => newMediaToRow(media, { id: newMediaId(), webhookId, receivedAt: webhook.receivedAt, now }, dialect))
    const inserted = new Map<string, MediaRecord>()
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT)
      const returned = yield dialect.qb
        .insertInto('media')
        .values(chunk)
        .onConflict((oc) => oc.columns(['platform', 'message_id', 'attachment_index']).doNothing())
        .returningAll()
        .compile()
      for (const row of returned) {
        const record = rowToMedia(row)
        inserted.set(record.id, record)
      }
    }
    // RETURNING promises no order; the ids we generated restore the order of `media`.
    const created = rows.map((row) => inserted.get(row.id)).filter((r): r is MediaRecord => r !== undefined)
    results.push({ webhookId, webhookCreated, created, duplicates: rows.length - created.length })
  }
  return results
}

function* recordBody(dialect: SqlDialect, webhook: IncomingWebhook): Plan<{ webhookId: string; webhookCreated: boolean }> {
  const { qb } = dialect
  const bodySha256 = createHash('sha256').update(webhook.body).digest('hex')
  const inserted = yield qb
    .insertInto('webhooks')
    .values({
      id: newWebhookId(),
      body_sha256: bodySha256,
      object: webhook.object,
      received_at: webhook.receivedAt.getTime(),
      size: webhook.body.length,
      body: webhook.body,
    })
    .onConflict((oc) => oc.column('body_sha256').doNothing())
    .returning('id')
    .compile()
  const createdId = inserted[0]?.id
  if (typeof createdId === 'string') return { webhookId: createdId, webhookCreated: true }
  const existing = yield qb.selectFrom('webhooks').select('id').where('body_sha256', '=', bodySha256).compile()
  const existingId = existing[0]?.id
  // Inside the same transaction as the conflicting insert, the row must be visible.
  if (typeof existingId !== 'string') throw new Error(`webhook with body sha256 ${bodySha256} conflicted but cannot be found`)
  return { webhookId: existingId, webhookCreated: false }
}
