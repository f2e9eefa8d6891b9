/**
 * Deployment-wide schedules of periodic chores (chore-plans.ts): one row per chore, the time it
 * last started on the catalog's clock and who started it. The retention sweep's orphan scan lists
 * the whole blob store; its last start used to live in each process's memory, so every start of
 * every worker scanned again. No row until a chore first runs.
 */
import type { Migration } from './index.js'

export const choreRuns: Migration = {
  version: 14,
  name: 'chore_runs',
  up({ qb }) {
    return [
      qb.schema
        .createTable('chore_runs')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('runner', 'text', (c) => c.notNull())
        .compile(),
    ]
  },
  down({ qb }) {
    return [qb.schema.dropTable('chore_runs').compile()]
  },
}
