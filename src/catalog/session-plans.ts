/**
 * Dashboard sessions as plans for both engines (see plan.ts). A logout deletes the row: a
 * session that is not in the table is not live, so nothing a client sends can bring it back.
 */
import type { NewSession } from './catalog.js'
import { single, type Plan } from './plan.js'
import type { SqlDialect } from './sql-dialect.js'

/**
 * Expired sessions removed per sign-in. Each sign-in adds one row and removes up to this many
 * expired ones, so expired rows never pile up, and no sign-in pays for a large backlog at once.
 */
export const EXPIRED_SESSIONS_PER_SIGN_IN = 100

export function* createSessionPlan(dialect: SqlDialect, session: NewSession): Plan<void> {
  const { qb } = dialect
  const now = session.createdAt.getTime()
  const expired = qb.selectFrom('dashboard_sessions').select('id').where('expires_at', '<=', now).orderBy('expires_at').limit(EXPIRED_SESSIONS_PER_SIGN_IN)
  yield qb.deleteFrom('dashboard_sessions').where('id', 'in', expired).compile()
  yield qb.insertInto('dashboard_sessions').values({ id: session.idHash, created_at: now, expires_at: session.expiresAt.getTime() }).compile()
}

export function* sessionActivePlan(dialect: SqlDialect, idHash: string, now: number): Plan<boolean> {
  const rows = yield* single(dialect.qb.selectFrom('dashboard_sessions').select('id').where('id', '=', idHash).where('expires_at', '>', now).compile())
  return rows.length > 0
}

export function* endSessionPlan(dialect: SqlDialect, idHash: string): Plan<boolean> {
  const rows = yield* single(dialect.qb.deleteFrom('dashboard_sessions').where('id', '=', idHash).returning('id').compile())
  return rows.length > 0
}
