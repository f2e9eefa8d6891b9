/**
 * Dashboard sessions: one row per sign-in, so that a logout in one process ends the session in
 * every process sharing the catalog. The key is a hash of the session's random id, never the
 * id or the cookie, so reading the catalog gives nobody a way in. The index serves the bounded
 * clean-up of expired sessions that every sign-in does.
 */
import type { Migration } from './index.js'

export const dashboardSessions: Migration = {
  version: 4,
  name: 'dashboard_sessions',
  up({ qb }) {
    const schema = qb.schema
    return [
      schema
        .createTable('dashboard_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .compile(),
      schema.createIndex('dashboard_sessions_expires_idx').on('dashboard_sessions').column('expires_at').compile(),
    ]
  },
  down({ qb }) {
    return [qb.schema.dropTable('dashboard_sessions').compile()]
  },
}
