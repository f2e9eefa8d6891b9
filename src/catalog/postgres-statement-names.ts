/**
 * Names for the catalog's statements on PostgreSQL, so that each connection parses and plans a
 * statement once and then only binds and executes it (node-postgres prepares a named statement
 * on its first use per connection and reuses it after). Unnamed, every statement was parsed,
 * analysed and planned at every execution: PostgreSQL's backends spent 1.5–1.6 ms of CPU per
 * captured media on 2.2 statements, 0.6–0.9 ms named (bench/lib/s3-probe.ts, alternated runs).
 *
 * Two limits keep it safe:
 * - A statement whose result columns come from a table's definition (`select *`, `returning *`)
 *   stays unnamed: after a migration adds a column, PostgreSQL refuses to run such a prepared
 *   statement ("cached plan must not change result type") on every connection that holds it.
 *   Statements naming their columns are re-planned by PostgreSQL itself after a schema change.
 * - At most `limit` distinct texts get a name (group statements vary with the group's size):
 *   each one costs every connection a prepared statement for its lifetime.
 */
import { createHash } from 'node:crypto'

export class StatementNames {
  private readonly names = new Map<string, string>()

  constructor(private readonly limit = 500) {}

  /** The name to prepare `text` under, or undefined to run it unnamed. */
  nameOf(text: string): string | undefined {
    const known = this.names.get(text)
    if (known !== undefined || this.names.size >= this.limit || !hasStableColumns(text)) return known
    const name = `mg_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`
    this.names.set(text, name)
    return name
  }
}

/** No `*` but in `count(*)`: the result columns are the statement's, not a table's. */
function hasStableColumns(text: string): boolean {
  return !text.replace(/count\(\*\)/gi, '').includes('*')
}
