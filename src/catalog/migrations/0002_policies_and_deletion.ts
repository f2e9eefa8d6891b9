/**
 * Storage policies and erasure: each record keeps the policy it arrived under (`lazy` and `proxy`
 * records wait as `remote`), and tombstones say when they were deleted. Two indexes serve the
 * retention sweep (by platform and age) and `mediagate capture` (remote records by source expiry).
 */
import type { Migration } from './index.js'

export const policiesAndDeletion: Migration = {
  version: 2,
  name: 'policies_and_deletion',
  up({ qb }) {
    const schema = qb.schema
    return [
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      schema.alterTable('media').addColumn('policy', 'text', (c) => c.notNull().defaultTo('eager')).compile(),
      schema.alterTable('media').addColumn('deleted_at', 'bigint').compile(),
      schema.createIndex('media_platform_received_idx').on('media').columns(['platform', 'received_at']).compile(),
      schema.createIndex('media_status_source_expiry_idx').on('media').columns(['status', 'source_expires_at']).compile(),
    ]
  },
  down({ qb }) {
    const schema = qb.schema
    return [
      schema.dropIndex('media_status_source_expiry_idx').compile(),
      schema.dropIndex('media_platform_received_idx').compile(),
      schema.alterTable('media').dropColumn('deleted_at').compile(),
      schema.alterTable('media').dropColumn('policy').compile(),
    ]
  },
}
