/**
 * One generic task queue for background work on a media (deriving today; malware rescans and
 * deletions at Meta later), the derived files of a media, and the facts deriving learns.
 *
 * - `tasks`: one row per (kind, media) while there is work to do or a failure to show. A task is
 *   due while `due_at` is set; done tasks are deleted, failed ones keep `last_error` with no due
 *   time. Leases and the crash count (`unfinished`) work as on media and forwards (migration 6).
 * - `derivatives`: the derived blobs of a media (thumbnails, a playable preview), content-addressed
 *   like originals. A row is written before its blob is committed (`size` still null), so a
 *   deletion never takes a blob a derivation is about to use (catalog/derivative-plans.ts); its
 *   id is `<media id>.<name>`, so copies between catalogs converge on one row per derivative.
 * - media facts: width, height, duration, waveform (JSON array), placeholder (ThumbHash), and
 *   where deriving stands (`derive_status`, `derive_error`).
 */
import type { Migration } from './index.js'

const FACT_COLUMNS = [
  ['width', 'integer'],
  ['height', 'integer'],
  ['duration_ms', 'bigint'],
  ['waveform', 'text'],
  ['placeholder', 'text'],
  ['derive_status', 'text'],
  ['derive_error', 'text'],
] as const

export const tasksAndDerivatives: Migration = {
  version: 8,
  name: 'tasks_and_derivatives',
  up({ qb }) {
    const schema = qb.schema
    return [
      schema
        .createTable('tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('media_id', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('unfinished', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('tasks_kind_media_unique', ['kind', 'media_id'])
        .compile(),
      schema.createIndex('tasks_claim_idx').on('tasks').columns(['kind', 'due_at']).where('due_at', 'is not', null).compile(),
      schema
        .createTable('derivatives')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('media_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('mime_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .compile(),
      schema.createIndex('derivatives_media_idx').on('derivatives').column('media_id').compile(),
      schema.createIndex('derivatives_blob_key_idx').on('derivatives').column('blob_key').compile(),
      ...FACT_COLUMNS.map(([name, type]) => schema.alterTable('media').addColumn(name, type).compile()),
    ]
  },
  down({ qb }) {
    const schema = qb.schema
    return [
      ...FACT_COLUMNS.map(([name]) => schema.alterTable('media').dropColumn(name).compile()),
      schema.dropTable('derivatives').compile(),
      schema.dropTable('tasks').compile(),
    ]
  },
}
