/**
 * The forwarding outbox: one row per recorded webhook to hand on to the user's app. A row is
 * written in the transaction that records its webhook, so "acknowledged to Meta" implies
 * "queued for the app"; rows that wait for their media (`stored` mode) are held back by the
 * claim query until no media of the webhook is still pending.
 */
import type { Migration } from './index.js'

export const forwarding: Migration = {
  version: 3,
  name: 'forwarding',
  up({ qb, types }) {
    const schema = qb.schema
    return [
      schema
        .createTable('forwards')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // No foreign key: a webhook body removed by retention turns its forward into `failed`.
        .addColumn('webhook_id', 'text', (c) => c.notNull().unique())
        .addColumn('conversation_key', 'text', (c) => c.notNull())
        .addColumn('wait_for_media', types.boolean, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .compile(),
      // Claiming (pending, due) and listing by status, newest first.
      schema.createIndex('forwards_status_id_idx').on('forwards').columns(['status', 'id']).compile(),
      // Order per conversation: "is an earlier forward of this conversation still pending?"
      schema.createIndex('forwards_conversation_idx').on('forwards').columns(['conversation_key', 'status', 'id']).compile(),
    ]
  },
  down({ qb }) {
    return [qb.schema.dropTable('forwards').compile()]
  },
}
