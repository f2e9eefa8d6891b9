/**
 * Safe blob deletion (retention/blob-guard.ts): a capture leases its blob's key on its own record
 * before it commits the bytes, and a deletion claims the key in `blob_deletions` before it
 * deletes the blob. The index answers "is a capture about to use this key?" from the index
 * alone, and holds only records that leased a key: intake and claims do not maintain it.
 */
import type { Migration } from './index.js'

export const blobLeases: Migration = {
  version: 5,
  name: 'blob_leases',
  up({ qb }) {
    const schema = qb.schema
    return [
      schema.alterTable('media').addColumn('blob_lease_key', 'text').compile(),
      schema.createIndex('media_blob_lease_idx').on('media').columns(['blob_lease_key', 'status', 'lease_expires_at']).where('blob_lease_key', 'is not', null).compile(),
      schema
        .createTable('blob_deletions')
        .addColumn('blob_key', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .compile(),
    ]
  },
  down({ qb }) {
    const schema = qb.schema
    return [
      schema.dropTable('blob_deletions').compile(),
      schema.dropIndex('media_blob_lease_idx').compile(),
      schema.alterTable('media').dropColumn('blob_lease_key').compile(),
    ]
  },
}
