/**
 * How many attempts in a row of a job (media or forward) ended without a settlement: its
 * process crashed or hung, or lost its lease. The claim counts them when it takes over an
 * expired lease and gives the job up as `crashed` at the limit; any settlement resets the count.
 * Attempts as such no longer limit anything: media are retried until their source's deadline.
 */
import type { Migration } from './index.js'

export const unfinishedAttempts: Migration = {
  version: 6,
  name: 'unfinished_attempts',
  up({ qb }) {
    return ['media', 'forwards'].map((table) => qb.schema.alterTable(table).addColumn('unfinished', 'integer', (c) => c.notNull().defaultTo(0)).compile())
  },
  down({ qb }) {
    return ['media', 'forwards'].map((table) => qb.schema.alterTable(table).dropColumn('unfinished').compile())
  },
}
