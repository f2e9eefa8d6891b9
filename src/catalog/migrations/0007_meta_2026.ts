/**
 * Meta's 2026 contract (see docs/meta-platform.md):
 * - `sender_user_id`: the WhatsApp business-scoped user id (BSUID), which every webhook carries
 *   since April 2026 while the phone number may be missing; erasure and `?sender=` search both
 *   sender columns, hence one index each.
 * - `ig_post_media_id` and `title`: what an Instagram `ig_post` attachment says about the post.
 * - `refetched_at`: the source was recovered through Graph's Message node after its CDN URL expired.
 * - `deadline_order`: the claim's sort key, the capture deadline (`source_expires_at`) or, when
 *   Meta says nothing, receipt + 7 days. NOT NULL so that one ascending index serves the
 *   earliest-deadline-first claim on both engines (SQLite sorts NULLs first, PostgreSQL last).
 */
import { sql } from 'kysely'
import type { Migration } from './index.js'

/** A source without a known expiry is ordered as if it lived as long as a WhatsApp media id. */
export const UNKNOWN_DEADLINE_MS = 7 * 24 * 60 * 60 * 1000

export const meta2026: Migration = {
  version: 7,
  name: 'meta_2026',
  up({ qb }) {
    const schema = qb.schema
    return [
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      schema.alterTable('media').addColumn('sender_user_id', 'text').compile(),
      schema.alterTable('media').addColumn('ig_post_media_id', 'text').compile(),
      schema.alterTable('media').addColumn('title', 'text').compile(),
      schema.alterTable('media').addColumn('refetched_at', 'bigint').compile(),
      schema.alterTable('media').addColumn('deadline_order', 'bigint', (c) => c.notNull().defaultTo(0)).compile(),
      qb
        .updateTable('media')
        .set({ deadline_order: sql<number>`coalesce(${sql.ref('source_expires_at')}, ${sql.ref('received_at')} + ${sql.lit(UNKNOWN_DEADLINE_MS)})` })
        .compile(),
      schema.createIndex('media_claim_deadline_idx').on('media').columns(['status', 'deadline_order', 'next_attempt_at', 'id']).compile(),
      schema.createIndex('media_sender_id_idx').on('media').column('sender_id').compile(),
      schema.createIndex('media_sender_user_id_idx').on('media').column('sender_user_id').where('sender_user_id', 'is not', null).compile(),
    ]
  },
  down({ qb }) {
    const schema = qb.schema
    return [
      schema.dropIndex('media_sender_user_id_idx').compile(),
      schema.dropIndex('media_sender_id_idx').compile(),
      schema.dropIndex('media_claim_deadline_idx').compile(),
      ...['deadline_order', 'refetched_at', 'title', 'ig_post_media_id', 'sender_user_id'].map((c) => schema.alterTable('media').dropColumn(c).compile()),
    ]
  },
}
