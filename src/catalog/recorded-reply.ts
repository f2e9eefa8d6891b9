/**
 * `recordWebhooks` across the SQLite thread's boundary without its records. A record is ~60
 * fields: cloning each new one to the main thread (written on the SQLite thread, read and revived
 * on the main one) cost about 36k instructions per webhook, more than the HMAC of its body. The
 * thread answers what the main thread cannot know (each new record's id, which media it is, the
 * transaction's clock) and the main thread builds the records from the media it sent, with the
 * same row mapping the plan uses: records are built from the rows written (record-plan.ts), and
 * those rows are a function of the media, the ids, the receipt time and that clock.
 */
import type { IncomingWebhook, RecordedWebhook } from './catalog.js'
import { newMediaToRow, rowToMedia } from './row-mapping.js'
import type { MediaRow } from './schema.js'
import { type SqlDialect, sqlDialect } from './sql-dialect.js'

export interface CompactRecorded {
  webhookId: string
  webhookCreated: boolean
  duplicates: number
  /** Position in the webhook's `media` of each record created, in order. */
  indexes: number[]
  ids: string[]
  /** The clock the records were written with (`updated_at`). */
  now: number
}

/** On the SQLite thread: what the main thread needs of each result. */
export function compactRecorded(batch: IncomingWebhook[], results: RecordedWebhook[]): CompactRecorded[] {
  return results.map((r, i) => {
    const media = batch[i]!.media
    let j = 0
    // Created records come in the order of `media`; a key repeated in one webhook is created once, first.
    const indexes = r.created.map((m) => {
      while (j < media.length && !(media[j]!.platform === m.platform && media[j]!.messageId === m.messageId && media[j]!.attachmentIndex === m.attachmentIndex)) j++
      if (j === media.length) throw new Error(`record ${m.id} matches no media of its webhook`)
      return j++
    })
    return { webhookId: r.webhookId, webhookCreated: r.webhookCreated, duplicates: r.duplicates, indexes, ids: r.created.map((m) => m.id), now: r.created[0]?.updatedAt.getTime() ?? 0 }
  })
}

let sqlite: SqlDialect | undefined

/** On the main thread: the records, as the plan built them on the other side. */
export function expandRecorded(batch: IncomingWebhook[], replies: CompactRecorded[]): RecordedWebhook[] {
  const dialect = (sqlite ??= sqlDialect('sqlite'))
  return replies.map((c, i) => {
    const webhook = batch[i]!
    const created = c.ids.map((id, k) =>
      rowToMedia(newMediaToRow(webhook.media[c.indexes[k]!]!, { id, webhookId: c.webhookId, receivedAt: webhook.receivedAt, now: c.now }, dialect) as MediaRow),
    )
    return { webhookId: c.webhookId, webhookCreated: c.webhookCreated, created, duplicates: c.duplicates }
  })
}
