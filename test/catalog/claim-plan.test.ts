/**
 * The deadline-first claim reads the head of `media_claim_deadline_idx` on both engines instead
 * of sorting the backlog (migration 7): the plans are asked of the engines themselves.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { giveUpQuery, postgresClaimQuery, sqliteClaimQuery } from '../../src/catalog/claim-queries.js'
import { PostgresCatalog } from '../../src/catalog/postgres-catalog.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { sqlDialect } from '../../src/catalog/sql-dialect.js'
import { createTestSchema } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'
import { seed } from './fixtures.js'

const available = await postgresAvailable()
const options = { owner: 'w', limit: 16, leaseMs: 60_000, crashLimit: 5 }

describe('deadline-first claim plans', () => {
  it('SQLite: the pick walks media_claim_deadline_idx and sorts nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mediagate-plan-'))
    try {
      const file = path.join(dir, 'catalog.db')
      const catalog = new SqliteCatalog({ path: file })
      await catalog.migrate()
      await seed(catalog, 50)
      await catalog.close()
      const db = new Database(file)
      db.exec('analyze')
      const dialect = sqlDialect('sqlite')
      for (const query of [sqliteClaimQuery(dialect, options, Date.now()), giveUpQuery(dialect, options, Date.now())]) {
        const plan = db.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as { detail: string }[]
        const details = plan.map((row) => row.detail).join('\n')
        expect(details).toContain('media_claim_deadline_idx')
        expect(details).not.toMatch(/TEMP B-TREE FOR ORDER BY/)
      }
      db.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.skipIf(!available)('PostgreSQL: the pick is an index scan of media_claim_deadline_idx without a Sort', async () => {
    const schema = await createTestSchema()
    try {
      const catalog = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: schema.name, poolSize: 1 })
      await catalog.migrate()
      await seed(catalog, 50)
      await catalog.close()
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      try {
        await client.query(`set search_path to "${schema.name}"`)
        // On 50 rows a sequential scan is cheaper; what matters is that the index can give the order.
        await client.query('set enable_seqscan = off')
        const query = postgresClaimQuery(sqlDialect('postgres'), options, Date.now())
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain ${query.sql}`, query.parameters as unknown[])
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
        expect(plan).toContain('media_claim_deadline_idx')
        expect(plan).not.toMatch(/\bSort\b/)
      } finally {
        await client.end()
      }
    } finally {
      await schema.drop()
    }
  })
})
