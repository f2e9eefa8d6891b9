/** The WHERE clause of `list`, `count` and `requeue`, and the opaque keyset cursor of `list`. */
import { type Expression, type ExpressionBuilder, sql, type SqlBool } from 'kysely'
import { MediagateError } from '../errors.js'
import { isMediaId } from '../media/ids.js'
import type { MediaFilter } from './catalog.js'
import type { Database } from './schema.js'

/**
 * Every set field narrows the result. `receivedAfter` is inclusive and `receivedBefore`
 * exclusive, so consecutive windows neither overlap nor leave a gap. `ids: []` matches nothing.
 */
export function filterExpression(eb: ExpressionBuilder<Database, 'media'>, filter: MediaFilter & { ids?: string[] }): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = []
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) return eb.lit(false)
    conditions.push(eb('id', 'in', filter.ids))
  }
  if (filter.platform !== undefined) conditions.push(eb('platform', '=', filter.platform))
  if (typeof filter.status === 'string') conditions.push(eb('status', '=', filter.status))
  else if (filter.status !== undefined) conditions.push(filter.status.length === 0 ? eb.lit(false) : eb('status', 'in', filter.status))
  if (filter.kind !== undefined) conditions.push(eb('kind', '=', filter.kind))
  if (filter.accountId !== undefined) conditions.push(eb('account_id', '=', filter.accountId))
  if (filter.messageId !== undefined) conditions.push(eb('message_id', '=', filter.messageId))
  if (filter.sender !== undefined) conditions.push(eb.or([eb('sender_id', '=', filter.sender), eb('sender_user_id', '=', filter.sender)]))
  if (filter.errorCode !== undefined) conditions.push(eb('error_code', '=', filter.errorCode))
  if (filter.receivedAfter !== undefined) conditions.push(eb('received_at', '>=', filter.receivedAfter.getTime()))
  if (filter.receivedBefore !== undefined) conditions.push(eb('received_at', '<', filter.receivedBefore.getTime()))
  if (filter.changedAfter !== undefined) conditions.push(eb('updated_at', '>=', filter.changedAfter.getTime()))
  if (filter.q !== undefined) conditions.push(searchExpression(filter.q))
  return eb.and(conditions)
}

/**
 * The search box: ids by prefix (exact case: they are pasted, not typed; a phone number also
 * without its +, spaces and dashes), caption and filename by substring in any case. Written in
 * SQL both engines read alike: `substr` counts characters on both, and `lower` on both sides of
 * LIKE makes the match as case-insensitive as the engine's `lower` (ASCII on SQLite, Unicode on
 * PostgreSQL) while keeping an exact-case match exact.
 * No index serves a substring, so this narrows a newest-first scan of the id index, which stops
 * once a page is full or its window ends (media-plans.ts `listPlan`, SEARCH_WINDOW).
 */
function searchExpression(q: string): Expression<SqlBool> {
  const length = [...q].length
  const contains = `%${escapeLike(q)}%`
  const prefix = (column: 'sender_id' | 'sender_user_id' | 'message_id') => sql<SqlBool>`substr(${sql.ref(column)}, 1, ${length}) = ${q}`
  const substring = (column: 'caption' | 'filename') => sql<SqlBool>`lower(${sql.ref(column)}) like lower(${contains}) escape '\\'`
  const conditions = [prefix('sender_id'), prefix('sender_user_id'), prefix('message_id'), substring('caption'), substring('filename')]
  // A phone number as people write it (+1 555-123 4567) is stored as Meta sends it: digits only.
  const digits = /^\+?[\d\s().-]+$/.test(q) ? q.replace(/\D/g, '') : ''
  if (digits !== '' && digits !== q) conditions.push(sql<SqlBool>`substr(${sql.ref('sender_id')}, 1, ${digits.length}) = ${digits}`)
  return sql<SqlBool>`(${sql.join(conditions, sql` or `)})`
}

/** The user's text as a LIKE pattern that matches itself only: `%`, `_` and the escape are literal. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** The cursor names the last id of a page; the next page starts strictly below it. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url')
}

export function decodeCursor(cursor: string): string {
  const id = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : ''
  if (!isMediaId(id)) throw new MediagateError('bad_request', 'cursor is not one this server issued')
  return id
}

export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new MediagateError('bad_request', 'limit must be a whole number from 1 to 1000')
  }
}
