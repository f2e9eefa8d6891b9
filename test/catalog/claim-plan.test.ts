/**
 * The deadline-first claim reads the head of `media_claim_deadline_idx` on both engines instead
 * of sorting the backlog (migration 7): the plans are asked of the engines themselves. The same
 * for the other queries that read a partial index of migration 13, which a planner takes only
 * when the query's WHERE proves the index's predicate (a literal status, not a parameter).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { CompiledQuery } from 'kysely'
import { claimBlobDeletionsPlan } from '../../src/catalog/blob-plans.js'
import { claimJobsPlan, giveUpQuery, inIndexOrder, postgresClaimQuery, sqliteClaimQuery } from '../../src/catalog/claim-queries.js'
import type { Plan } from '../../src/catalog/plan.js'
import { claimForwardsPlan } from '../../src/catalog/forward-plans.js'
import { postgresSettleGroupPlan } from '../../src/catalog/postgres-group-plans.js'
import { claimTasksPlan } from '../../src/catalog/task-plans.js'
import { lazyDuePlan } from '../../src/catalog/remote-plans.js'
import { summaryPlan } from '../../src/catalog/summary-plan.js'
import type { SqlDialect } from '../../src/catalog/sql-dialect.js'
import { PostgresCatalog } from '../../src/catalog/postgres-catalog.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { sqlDialect } from '../../src/catalog/sql-dialect.js'
import { createTestSchema } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'
import { seed, webhook } from './fixtures.js'

const available = await postgresAvailable()
const options = { owner: 'w', limit: 16, leaseMs: 60_000, crashLimit: 5 }

/** The statements a plan runs when every one of them answers no rows. */
function statements(plan: Plan<unknown>): CompiledQuery[] {
  const out: CompiledQuery[] = []
  for (let step = plan.next(); !step.done; step = plan.next([])) out.push(step.value)
  return out
}

/**
 * The plans of a claim as the catalog runs it: in one transaction (rolled back), the statement
 * that sets the planner up for the picks (`inIndexOrder`) runs, and every other one is explained.
 */
async function plansAsRun(client: pg.Client, run: CompiledQuery[]): Promise<string[]> {
  const setup = inIndexOrder(sqlDialect('postgres')).sql
  const plans: string[] = []
  await client.query('begin')
  try {
    for (const q of run) {
      if (q.sql === setup) await client.query(q.sql, q.parameters as unknown[])
      else plans.push((await client.query<{ 'QUERY PLAN': string }>(`explain ${q.sql}`, q.parameters as unknown[])).rows.map((r) => r['QUERY PLAN']).join('\n'))
    }
  } finally {
    await client.query('rollback')
  }
  return plans
}

/** Each query with the partial index of migration 13 it must read. */
function partialIndexQueries(dialect: SqlDialect, now: number): [CompiledQuery, string][] {
  const leaseCheck = statements(claimBlobDeletionsPlan(dialect, ['sha256/aa/x', 'sha256/bb/y'], 'sweeper', now, 60_000)).find((q) => q.sql.includes('blob_lease_key'))!
  const [lazyDue] = statements(lazyDuePlan(dialect, { limit: 10, expiresBefore: new Date(now + 3_600_000) }, now))
  return [
    [leaseCheck, 'media_blob_lease_idx'],
    [lazyDue!, 'media_status_source_expiry_idx'],
  ]
}

describe('deadline-first claim plans', () => {
  it('SQLite: the pick walks media_claim_deadline_idx and sorts nothing, with or without statistics', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mediagate-plan-'))
    try {
      const file = path.join(dir, 'catalog.db')
      const catalog = new SqliteCatalog({ path: file })
      await catalog.migrate()
      await seed(catalog, 50)
      await catalog.close()
      const db = new Database(file)
      const dialect = sqlDialect('sqlite')
      const details = (query: CompiledQuery) =>
        (db.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as { detail: string }[]).map((row) => row.detail).join('\n')
      // A gateway never runs ANALYZE: the plans must hold without statistics too.
      for (const analyzed of [false, true]) {
        if (analyzed) db.exec('analyze')
        for (const query of [sqliteClaimQuery(dialect, options, Date.now()), giveUpQuery(dialect, options, Date.now())]) {
          expect(details(query)).toContain('media_claim_deadline_idx')
          expect(details(query)).not.toMatch(/TEMP B-TREE FOR ORDER BY/)
        }
        for (const [query, index] of partialIndexQueries(dialect, Date.now())) expect(details(query)).toContain(index)
        // The summary's figures since a moment read their partial indexes (migration 12), not every stored or failed record.
        const summary = statements(summaryPlan(dialect, Date.now() - 60_000, Date.now()))
        expect(details(summary.find((q) => q.sql.includes('stored_at >='))!)).toContain('media_stored_at_idx')
        expect(details(summary.find((q) => q.sql.includes('updated_at >='))!)).toContain('media_failed_updated_idx')
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
        for (const [q, index] of partialIndexQueries(sqlDialect('postgres'), Date.now())) {
          const explained = await client.query<{ 'QUERY PLAN': string }>(`explain ${q.sql}`, q.parameters as unknown[])
          expect(explained.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain(index)
        }
      } finally {
        await client.end()
      }
    } finally {
      await schema.drop()
    }
  })

  it.skipIf(!available)('PostgreSQL: the claim as the catalog runs it walks the index in order, also when the statistics say nothing is pending (a backlog since the last ANALYZE)', async () => {
    const schema = await createTestSchema()
    try {
      const catalog = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: schema.name, poolSize: 1 })
      await catalog.migrate()
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      try {
        await client.query(`set search_path to "${schema.name}"`)
        // Analysed when every record was stored; then a backlog came: the statistics say nothing is pending.
        await seed(catalog, 2000)
        await client.query(`update media set status = 'stored', next_attempt_at = null`)
        await client.query('analyze media')
        await seed(catalog, 2000)
        await catalog.close()
        const now = Date.now()
        const plans = await plansAsRun(client, statements(claimJobsPlan(sqlDialect('postgres'), postgresClaimQuery(sqlDialect('postgres'), options, now), options, now)))
        expect(plans).toHaveLength(1)
        const [plan] = plans as [string]
        expect(plan).toContain('Index Scan using media_claim_deadline_idx')
        expect(plan).not.toMatch(/\bSort\b|Bitmap/)
      } finally {
        await client.end()
      }
    } finally {
      await schema.drop()
    }
  })

  it.skipIf(!available)('PostgreSQL: the task and forward claims walk their indexes in order too, also with statistics that say nothing is due', async () => {
    const schema = await createTestSchema()
    const catalog = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: schema.name, poolSize: 1 })
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    try {
      await catalog.migrate()
      await client.connect()
      await client.query(`set search_path to "${schema.name}"`)
      const ids = await seed(catalog, 2000)
      const forwardIds = async (n: number) =>
        catalog.recordWebhooks(Array.from({ length: n }, (_, i) => ({ ...webhook([]), forward: { conversationKey: `c${i}`, waitForMedia: false } })))
      // Analysed when nothing was due; then a backlog came, enqueued over time (a due time per batch).
      await catalog.enqueueTasks(ids.slice(0, 1000).map((mediaId) => ({ kind: 'derive', mediaId })))
      await forwardIds(1000)
      await client.query(`update tasks set due_at = null`)
      await client.query(`update forwards set status = 'sent', next_attempt_at = null`)
      await client.query('analyze')
      for (let i = 1000; i < 2000; i += 100) {
        await catalog.enqueueTasks(ids.slice(i, i + 100).map((mediaId) => ({ kind: 'derive', mediaId })))
        await sleep(2)
      }
      await forwardIds(1000)
      const now = Date.now() + 1000
      const claims = {
        tasks: statements(claimTasksPlan(sqlDialect('postgres'), { kind: 'derive', owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 5 }, now)),
        forwards: statements(claimForwardsPlan(sqlDialect('postgres'), { owner: 'w', limit: 4, leaseMs: 60_000, crashLimit: 5 }, now)),
      }
      for (const [name, run] of Object.entries(claims)) {
        // The give-up and the claim, each with its pick.
        const plans = await plansAsRun(client, run)
        expect(plans, name).toHaveLength(2)
        for (const plan of plans) {
          expect(plan, name).toContain(name === 'tasks' ? 'Index Scan using tasks_claim_idx' : 'Index Scan using forwards_status_id_idx')
          // An incremental sort orders one due time's tasks by id; a Sort would read the whole backlog.
          expect(plan, name).not.toMatch(/(^|-> {2})Sort\b|Bitmap/m)
        }
      }
    } finally {
      await client.end()
      await catalog.close()
      await schema.drop()
    }
  })

  it.skipIf(!available)('PostgreSQL: a group settlement reads each row by its id, whatever the statistics, generic plans included', async () => {
    const schema = await createTestSchema()
    try {
      const catalog = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: schema.name, poolSize: 1 })
      await catalog.migrate()
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      try {
        await client.query(`set search_path to "${schema.name}"`)
        const stored = (i: number) => ({ status: 'stored' as const, sha256: String(i).padStart(64, '0'), size: 10, blobKey: `sha256/00/00/${i}`, sniffedMime: null, mimeType: 'image/jpeg', storedAt: new Date() })
        const group = (ids: string[]) => {
          const items = ids.map((id, i) => ({ id, owner: 'w', settlement: stored(i) }))
          return statements(postgresSettleGroupPlan(sqlDialect('postgres'), items, Date.now())).find((q) => q.sql.includes('update "media"'))!
        }
        /** Every read of `media` in the plan, with its index condition. */
        const reads = async (explain: string, parameters: unknown[]) => {
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(explain, parameters)
          const lines = rows.map((r) => r['QUERY PLAN'])
          return lines.flatMap((line, i) => (/Scan.* on media m(_\d+)?\b/.test(line) ? [`${line.trim().replace(/ +\(cost.*$/, '')} | ${lines[i + 1]?.trim()}`] : []))
        }
        const byId = /^-> {2}Index Scan using media_(pkey|status_id_idx) on media m(_\d+)? \| Index Cond: \(.*\bid = (\$\d+|'med_\w+'::text)\)+$/
        // A generic plan made while `media` is empty and unanalysed, as a long-lived connection keeps it.
        const early = group(['med_a', 'med_b', 'med_c', 'med_d'])
        await client.query('set plan_cache_mode = force_generic_plan')
        await client.query(`prepare settle4 as ${early.sql}`)
        const generic = await reads(`explain execute settle4(${early.parameters.map((p) => client.escapeLiteral(String(p))).join(', ')})`, [])
        expect(generic).toHaveLength(4)
        for (const read of generic) expect(read).toMatch(byId)
        // Analysed, with 2,000 pending records, as autovacuum keeps a growing table.
        await client.query('reset plan_cache_mode')
        const ids = await seed(catalog, 2000)
        await client.query('analyze media')
        const late = group(ids.slice(0, 4))
        const analysed = await reads(`explain ${late.sql}`, late.parameters as unknown[])
        expect(analysed).toHaveLength(4)
        for (const read of analysed) expect(read).toMatch(byId)
      } finally {
        await client.end()
        await catalog.close()
      }
    } finally {
      await schema.drop()
    }
  })
})
