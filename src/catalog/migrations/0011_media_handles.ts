/**
 * Handles at Meta for stored media (outbound media, issue 14): the WhatsApp media id or the
 * Messenger/Instagram reusable `attachment_id` one upload of a media's bytes produced, cached
 * per (bytes, variant, platform, account) so the same bytes go to an account once.
 *
 * A row is also the lock of its upload: a process inserts (or takes over) the row as
 * `uploading` with a lease, uploads, and completes it as `ready`; concurrent requests in any
 * process see the live lease and wait for the outcome instead of uploading again. A failed
 * upload deletes its row, so nothing half-uploaded is ever handed out.
 *
 * Erasing media forgets the handles of its bytes (unless a live record still holds them) in the
 * same transaction, and moves its WhatsApp uploads to `handle_deletions`, for a task to delete
 * at Meta.
 */
import type { Migration } from './index.js'

export const mediaHandles: Migration = {
  version: 11,
  name: 'media_handles',
  up({ qb }) {
    const schema = qb.schema
    return [
      schema
        .createTable('media_handles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('source_sha256', 'text', (c) => c.notNull())
        .addColumn('variant', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('media_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('handle', 'text')
        .addColumn('sha256', 'text')
        .addColumn('size', 'bigint')
        .addColumn('mime_type', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('media_handles_key', ['source_sha256', 'variant', 'platform', 'account_id'])
        .compile(),
      schema.createIndex('media_handles_media_idx').on('media_handles').column('media_id').compile(),
      // WhatsApp uploads of erased media, to delete at Meta (task `meta_delete`, retried until done).
      schema
        .createTable('handle_deletions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('media_id', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('handle', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .compile(),
      schema.createIndex('handle_deletions_media_idx').on('handle_deletions').column('media_id').compile(),
    ]
  },
  down({ qb }) {
    return [qb.schema.dropTable('handle_deletions').compile(), qb.schema.dropTable('media_handles').compile()]
  },
}
