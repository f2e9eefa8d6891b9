/**
 * Fewer index pages per capture (issue 19). Each index of `media` that holds a column a settlement
 * or a blob lease changes is written by every capture; partial indexes that keep only the rows
 * their queries read are written only when a row enters or leaves them. Measured on SQLite
 * (WAL frames per media, one capture at a time, on 20,000 stored records): see the commit.
 *
 * - `media_claim_idx` (status, next_attempt_at) goes: the claim reads `media_claim_deadline_idx`
 *   since migration 7, and nothing else asks for that order.
 * - `media_claim_deadline_idx` keeps pending records only (the claim and the give-up read nothing
 *   else): a stored settlement removes its entry instead of moving it to a `stored` one.
 * - `media_status_source_expiry_idx` keeps pending and remote records (the summary's deadlines,
 *   `mediagate capture`), which no settlement adds to.
 * - `media_blob_key_idx` leaves out records without bytes, so intake no longer writes it.
 * - `media_blob_lease_idx` keeps pending and remote records (the only ones a blob lease protects):
 *   it used to keep the key of every stored record, at a random page per capture, twice.
 *
 * The predicates name statuses as literals, and the queries that read these indexes do too
 * (claim-queries.ts, blob-plans.ts, remote-plans.ts, summary-plan.ts): a planner uses a partial
 * index only when it can prove the query's WHERE implies the index's, which it cannot do with a
 * bound parameter. `status = 'pending' or status = 'remote'` rather than `in (…)`: both engines
 * prove an OR from either arm, so a query on one status may use it.
 */
import { sql } from 'kysely'
import type { Migration } from './index.js'

/** Parenthesized: it is also one term of an AND. */
const PENDING_OR_REMOTE = sql<boolean>`(status = 'pending' or status = 'remote')`

export const narrowMediaIndexes: Migration = {
  version: 13,
  name: 'narrow_media_indexes',
  up({ qb }) {
    const schema = qb.schema
    return [
      schema.dropIndex('media_claim_idx').compile(),
      schema.dropIndex('media_claim_deadline_idx').compile(),
      // Status stays the first column, constant as it is: with an equality on it, SQLite's planner
      // takes this index (which also gives the order) over another one that starts with status.
      schema.createIndex('media_claim_deadline_idx').on('media').columns(['status', 'deadline_order', 'next_attempt_at', 'id']).where(sql.ref('status'), '=', 'pending').compile(),
      schema.dropIndex('media_status_source_expiry_idx').compile(),
      schema.createIndex('media_status_source_expiry_idx').on('media').columns(['status', 'source_expires_at']).where(PENDING_OR_REMOTE).compile(),
      schema.dropIndex('media_blob_key_idx').compile(),
      schema.createIndex('media_blob_key_idx').on('media').column('blob_key').where('blob_key', 'is not', null).compile(),
      schema.dropIndex('media_blob_lease_idx').compile(),
      schema
        .createIndex('media_blob_lease_idx')
        .on('media')
        .columns(['blob_lease_key', 'status', 'lease_expires_at'])
        .where((eb) => eb.and([eb('blob_lease_key', 'is not', null), PENDING_OR_REMOTE]))
        .compile(),
    ]
  },
  down({ qb }) {
    const schema = qb.schema
    return [
      schema.dropIndex('media_blob_lease_idx').compile(),
      schema.createIndex('media_blob_lease_idx').on('media').columns(['blob_lease_key', 'status', 'lease_expires_at']).where('blob_lease_key', 'is not', null).compile(),
      schema.dropIndex('media_blob_key_idx').compile(),
      schema.createIndex('media_blob_key_idx').on('media').column('blob_key').compile(),
      schema.dropIndex('media_status_source_expiry_idx').compile(),
      schema.createIndex('media_status_source_expiry_idx').on('media').columns(['status', 'source_expires_at']).compile(),
      schema.dropIndex('media_claim_deadline_idx').compile(),
      schema.createIndex('media_claim_deadline_idx').on('media').columns(['status', 'deadline_order', 'next_attempt_at', 'id']).compile(),
      schema.createIndex('media_claim_idx').on('media').columns(['status', 'next_attempt_at']).compile(),
    ]
  },
}
