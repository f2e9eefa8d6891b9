/**
 * Claiming due jobs, the one statement that differs per engine. Both pick `pending` records
 * whose attempt is due and whose lease is free or expired, oldest due first, and lease them in
 * the same statement, so a record is never handed to two callers:
 * - PostgreSQL locks the picked rows `FOR UPDATE SKIP LOCKED` in a CTE: concurrent claimers skip
 *   each other's rows instead of waiting for them or claiming them twice.
 * - SQLite has one writer at a time; the engine runs this inside `BEGIN IMMEDIATE`, so the pick
 *   and the update see the same snapshot even with other processes on the same file.
 */
import type { CompiledQuery, ExpressionBuilder } from 'kysely'
import type { ClaimOptions } from './catalog.js'
import type { Database } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

function due(eb: ExpressionBuilder<Database, 'media'>, now: number) {
  return eb.and([
    eb('status', '=', 'pending'),
    eb('next_attempt_at', '<=', now),
    eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]),
  ])
}

function leaseColumns(eb: ExpressionBuilder<Database, 'media'>, options: ClaimOptions, now: number) {
  return {
    attempts: eb('attempts', '+', 1),
    lease_owner: options.owner,
    lease_expires_at: now + options.leaseMs,
    updated_at: now,
  }
}

export function sqliteClaimQuery({ qb }: SqlDialect, options: ClaimOptions, now: number): CompiledQuery {
  return qb
    .updateTable('media')
    .set((eb) => leaseColumns(eb, options, now))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('media')
        .select('id')
        .where((w) => due(w, now))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(options.limit),
    )
    .returningAll()
    .compile()
}

export function postgresClaimQuery({ qb }: SqlDialect, options: ClaimOptions, now: number): CompiledQuery {
  return qb
    .with('picked', (db) =>
      db
        .selectFrom('media')
        .select('id')
        .where((w) => due(w, now))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(options.limit)
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('media')
    .from('picked')
    .set((eb) => leaseColumns(eb, options, now))
    .whereRef('media.id', '=', 'picked.id')
    .returningAll('media')
    .compile()
}
