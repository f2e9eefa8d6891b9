/** Webhook bodies and media records (which are also the capture jobs). */
import type { Migration } from './index.js'

export const initial: Migration = {
  version: 1,
  name: 'initial',
  up({ qb, types }) {
    const schema = qb.schema
    return [
      schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('body_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('body', types.bytes, (c) => c.notNull())
        .compile(),
      schema
        .createTable('media')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('attachment_index', 'integer', (c) => c.notNull())
        .addColumn('sender_id', 'text')
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('source_type', 'text', (c) => c.notNull())
        .addColumn('source_media_id', 'text')
        .addColumn('source_url', 'text')
        .addColumn('source_expires_at', 'bigint')
        .addColumn('declared_mime', 'text')
        .addColumn('declared_sha256', 'text')
        .addColumn('declared_size', 'bigint')
        .addColumn('filename', 'text')
        .addColumn('caption', 'text')
        .addColumn('voice', types.boolean)
        .addColumn('animated', types.boolean)
        .addColumn('sent_at', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        // Webhook bodies have their own retention: deleting one leaves its media in place.
        .addColumn('webhook_id', 'text', (c) => c.references('webhooks.id').onDelete('set null'))
        .addColumn('sha256', 'text')
        .addColumn('size', 'bigint')
        .addColumn('sniffed_mime', 'text')
        .addColumn('mime_type', 'text')
        .addColumn('blob_key', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('error_vendor_code', 'text')
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('stored_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('media_attachment_key', ['platform', 'message_id', 'attachment_index'])
        .compile(),
      // Claiming: pending and due, oldest first.
      schema.createIndex('media_claim_idx').on('media').columns(['status', 'next_attempt_at']).compile(),
      // Listing is by id (newest first); the common filters narrow it first.
      schema.createIndex('media_status_id_idx').on('media').columns(['status', 'id']).compile(),
      schema.createIndex('media_platform_id_idx').on('media').columns(['platform', 'id']).compile(),
      schema.createIndex('media_message_id_idx').on('media').column('message_id').compile(),
      schema.createIndex('media_blob_key_idx').on('media').column('blob_key').compile(),
      // Deleting old webhook bodies sets webhook_id to null: find the referencing rows fast.
      schema.createIndex('media_webhook_id_idx').on('media').column('webhook_id').compile(),
    ]
  },
  down({ qb }) {
    return [qb.schema.dropTable('media').compile(), qb.schema.dropTable('webhooks').compile()]
  },
}
