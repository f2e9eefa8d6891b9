/** The conformance suite on PostgreSQL (a fresh schema per test), plus URL, schema and outage handling. */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { CompiledQuery } from 'kysely'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { lockIds } from '../../src/catalog/blob-plans.js'
import { continued, last, type Plan, type PlanMode, single } from '../../src/catalog/plan.js'
import { openCatalog } from '../../src/catalog/open-catalog.js'
import { PostgresCatalog } from '../../src/catalog/postgres-catalog.js'
import { LATEST_VERSION } from '../../src/catalog/migrations/index.js'
import { FOLD_EVERY } from '../../src/catalog/migrations/0012_media_counts.js'
import { createTestSchema, dropSchema, type TestSchema, uniqueSchemaName } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'
import { catalogConformance } from './conformance.js'
import { stored } from './conformance/claim.js'
import { seed } from './fixtures.js'

const available = await postgresAvailable()

/** Runs plans directly, to see how the engine groups their statements. */
class PlanRunner extends PostgresCatalog {
  runPlan<T>(plan: Plan<T>, mode: PlanMode): Promise<T> {
    return this.run(plan, mode)
  }
}

/** Every statement text `catalog`'s pool sends from now on (pooled clients and transactions alike). */
function sentStatements(catalog: PostgresCatalog): string[] {
  const sent: string[] = []
  ;(catalog as unknown as { pool: pg.Pool }).pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    client.query = ((...args: unknown[]) => {
      const config = args[0] as string | { text: string }
      sent.push(typeof config === 'string' ? config : config.text)
      return query(...args)
    }) as typeof client.query
  })
  return sent
}

catalogConformance(
  'postgres',
  async () => {
    const schema = await createTestSchema()
    return {
      // A small pool each: several catalogs on one schema behave like several gateways.
      open: async () => new PostgresCatalog({ connectionString: POSTGRES_URL, schema: schema.name, poolSize: 3 }),
      cleanup: () => schema.drop(),
    }
  },
  { skip: !available },
)

describe.skipIf(!available)('PostgresCatalog', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn()
  })
  const schema = async (): Promise<TestSchema> => {
    const s = await createTestSchema()
    cleanups.push(() => s.drop())
    return s
  }

  it('openCatalog takes schema and pool_size from the URL and keeps the tables in that schema', async () => {
    const s = await schema()
    const catalog = await openCatalog(s.url.replace('?', '?pool_size=2&'))
    cleanups.push(() => catalog.close())
    expect(catalog).toBeInstanceOf(PostgresCatalog)
    expect(catalog.dialect).toBe('postgres')
    expect((catalog as PostgresCatalog).schema).toBe(s.name)
    await catalog.migrate()
    await seed(catalog, 2)
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    try {
      const tables = await client.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1 order by 1', [s.name])
      expect(tables.rows.map((r) => r.table_name)).toEqual(['blob_deletions', 'chore_runs', 'dashboard_sessions', 'derivatives', 'forwards', 'handle_deletions', 'media', 'media_count_deltas', 'media_counts', 'media_handles', 'mediagate_migrations', 'tasks', 'webhooks'])
      const rows = await client.query(`select count(*)::int as n from "${s.name}".media`)
      expect(rows.rows[0].n).toBe(2)
    } finally {
      await client.end()
    }
  })

  it('prepares its statements per connection, unless the URL says prepared_statements=off (a pooler that cannot keep them)', async () => {
    const prepared = async (parameters: string) => {
      const s = await schema()
      // One connection, so the session asked is the one that ran the statements.
      const catalog = (await openCatalog(s.url.replace('?', `?pool_size=1&${parameters}`))) as PostgresCatalog
      cleanups.push(() => catalog.close())
      await catalog.migrate()
      await seed(catalog, 2)
      await catalog.list({}, { limit: 10 })
      const pool = (catalog as unknown as { pool: pg.Pool }).pool
      const rows = await pool.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements where name like 'mg\\_%'`)
      return rows.rows[0]!.n
    }
    expect(await prepared('')).toBeGreaterThan(0)
    expect(await prepared('prepared_statements=off&')).toBe(0)
  })

  it('writers fold the count deltas on their own: the deltas stay fewer than FOLD_EVERY, from several pools at once', async () => {
    const s = await schema()
    const catalogs = [0, 1, 2, 3].map(() => new PostgresCatalog({ connectionString: POSTGRES_URL, schema: s.name, poolSize: 2 }))
    cleanups.push(() => Promise.all(catalogs.map((c) => c.close())).then(() => undefined))
    await catalogs[0]!.migrate()
    const perCatalog = Math.ceil((FOLD_EVERY * 3) / catalogs.length / 50)
    await Promise.all(catalogs.map(async (c) => {
      for (let i = 0; i < perCatalog; i++) await seed(c, 50)
    }))
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    try {
      const deltas = await client.query(`select count(*)::int as n from "${s.name}".media_count_deltas`)
      const base = await client.query(`select coalesce(sum(count), 0)::int as n from "${s.name}".media_counts`)
      expect(deltas.rows[0].n).toBeLessThan(FOLD_EVERY)
      expect(base.rows[0].n).toBeGreaterThanOrEqual(FOLD_EVERY * 2)
      expect(base.rows[0].n + deltas.rows[0].n).toBe(catalogs.length * perCatalog * 50)
    } finally {
      await client.end()
    }
    expect(await catalogs[1]!.counts()).toEqual([{ platform: 'whatsapp', status: 'pending', count: catalogs.length * perCatalog * 50 }])
  })

  it('migrate creates a schema that does not exist yet, also from several processes at once', async () => {
    const name = uniqueSchemaName()
    const catalogs = [0, 1, 2].map(() => new PostgresCatalog({ connectionString: POSTGRES_URL, schema: name, poolSize: 1 }))
    cleanups.push(async () => {
      await Promise.all(catalogs.map((c) => c.close()))
      await dropSchema(name)
    })
    await Promise.all(catalogs.map((c) => c.migrate()))
    expect(await seed(catalogs[2]!, 1)).toHaveLength(1)
    expect(await catalogs[0]!.schemaVersion()).toBe(LATEST_VERSION)
  })

  it("claims, renewals and settlements run on the database's clock, not a skewed worker's", async () => {
    const s = await schema()
    const onTime = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: s.name, poolSize: 2 })
    // A worker whose clock runs ten minutes ahead: by its own clock every lease has run out.
    const ahead = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: s.name, poolSize: 2, localClock: () => Date.now() + 10 * 60_000 })
    cleanups.push(() => onTime.close(), () => ahead.close())
    await onTime.migrate()
    const [id] = await seed(onTime, 1)
    const [held] = await onTime.claim({ owner: 'on-time', limit: 1, leaseMs: 60_000, crashLimit: 8 })
    expect(held?.id).toBe(id)
    // The live lease is not taken over.
    expect(await ahead.claim({ owner: 'ahead', limit: 1, leaseMs: 60_000, crashLimit: 8 })).toEqual([])
    expect(await onTime.renewLeases([id!], 'on-time', 60_000)).toEqual([id])
    expect(await onTime.settle(id!, 'on-time', { status: 'retry', error: { code: 'upstream', message: '503' }, nextAttemptAt: new Date(Date.now()) })).toBe(true)
    const [again] = await ahead.claim({ owner: 'ahead', limit: 1, leaseMs: 60_000, crashLimit: 8 })
    expect(again?.id).toBe(id)
    // Its lease ends a minute after the database's now, not eleven minutes after.
    expect(Math.abs(again!.leaseExpiresAt!.getTime() - (Date.now() + 60_000))).toBeLessThan(5_000)
    // "Retry in 30 s" by its own clock is 30 s from now on the database's.
    await ahead.settle(id!, 'ahead', { status: 'retry', error: { code: 'upstream', message: '503' }, nextAttemptAt: new Date(Date.now() + 10 * 60_000 + 30_000) })
    const due = (await onTime.get(id!))!.nextAttemptAt!.getTime()
    expect(Math.abs(due - (Date.now() + 30_000))).toBeLessThan(5_000)
  })

  it('runs a transaction whose first statement is its last without BEGIN and COMMIT; any longer one inside them', async () => {
    const catalog = new PlanRunner({ connectionString: POSTGRES_URL, poolSize: 1 })
    cleanups.push(() => catalog.close())
    const sent = sentStatements(catalog)
    // Two statements of one transaction read one transaction id; two transactions, two.
    const txid = CompiledQuery.raw('select txid_current()::text as txid') as CompiledQuery<{ txid: string }>
    const read = (rows: { txid: string }[]) => rows[0]!.txid
    function* alone(): Plan<string> {
      return read(yield* last(txid))
    }
    function* pair(first: Plan<string>): Plan<string[]> {
      return [yield* first, read(yield* last(txid))]
    }

    expect(await catalog.runPlan(alone(), 'transaction')).toMatch(/^\d+$/)
    expect(sent.splice(0)).toEqual([txid.sql])

    const [a, b] = await catalog.runPlan(pair((function* () { return read(yield* single(txid)) })()), 'transaction')
    expect(a).toBe(b)
    expect(sent.splice(0)).toEqual(['BEGIN', txid.sql, txid.sql, 'COMMIT'])

    // A plan run as the first part of a longer one: its last statement no longer is.
    const [c, d] = await catalog.runPlan(pair(continued(alone())), 'transaction')
    expect(c).toBe(d)
    expect(sent.splice(0)).toEqual(['BEGIN', txid.sql, txid.sql, 'COMMIT'])

    // Without `continued`, the plan breaks the mark's promise: refused before the second statement runs.
    await expect(catalog.runPlan(pair(alone()), 'transaction')).rejects.toMatchObject({ code: 'internal' })
    expect(sent.splice(0)).toEqual([txid.sql])
  })

  it('settles a group of several shapes of settlement in one statement, each row as settle would', async () => {
    const s = await schema()
    const catalog = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: s.name, poolSize: 1 })
    cleanups.push(() => catalog.close())
    const sent = sentStatements(catalog)
    await catalog.migrate()
    const ids = await seed(catalog, 4)
    expect(await catalog.claim({ owner: 'w', limit: 4, leaseMs: 60_000, crashLimit: 8 })).toHaveLength(4)
    const [a, b, c, d] = ids as [string, string, string, string]
    const error = { code: 'network', message: 'reset' }
    const later = new Date(Date.now() + 60_000)
    sent.splice(0)
    const applied = await catalog.settleMany([
      { id: a, owner: 'w', settlement: stored() },
      { id: b, owner: 'w', settlement: { ...stored({ sha256: 'b'.repeat(64) }), sniffedMime: null } },
      { id: c, owner: 'w', settlement: { status: 'retry', error, nextAttemptAt: later, refundAttempt: true } },
      { id: d, owner: 'someone-else', settlement: { status: 'failed', error } },
    ])
    expect(applied).toEqual([true, true, true, false])
    // Four shapes, no tasks to queue: one statement, so neither BEGIN nor COMMIT.
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatch(/^with s0 as \(update "media"/)
    expect(await catalog.get(a)).toMatchObject({ status: 'stored', sha256: 'a'.repeat(64), leaseOwner: null })
    expect(await catalog.get(b)).toMatchObject({ status: 'stored', sha256: 'b'.repeat(64), sniffedMime: null })
    expect(await catalog.get(c)).toMatchObject({ status: 'pending', attempts: 0, error, nextAttemptAt: later, leaseOwner: null })
    expect(await catalog.get(d)).toMatchObject({ status: 'pending', leaseOwner: 'w' })
  })

  it('a lease that waits for the advisory lock of a deletion claim reads the claim its holder committed', async () => {
    const s = await schema()
    const catalog = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: s.name, poolSize: 2 })
    cleanups.push(() => catalog.close())
    await catalog.migrate()
    const [id] = await seed(catalog, 1)
    expect(await catalog.claim({ owner: 'w', limit: 1, leaseMs: 60_000, crashLimit: 8 })).toHaveLength(1)
    const sha256 = randomBytes(32).toString('hex')
    const key = `sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`
    const [lockId] = lockIds([key])
    // The eraser's side, by hand: the key's lock first, then the claim, committed while the lease waits.
    const eraser = new pg.Client({ connectionString: POSTGRES_URL })
    await eraser.connect()
    try {
      await eraser.query('begin')
      await eraser.query('select pg_advisory_xact_lock($1::bigint)', [lockId])
      const lease = catalog.leaseBlobs([{ mediaId: id!, owner: 'w', blobKey: key }])
      let waiting = 0
      for (let i = 0; i < 200 && waiting === 0; i++) {
        await sleep(10)
        const { rows } = await eraser.query<{ n: number }>(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and objsubid = 1 and ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
          [lockId],
        )
        waiting = rows[0]!.n
      }
      expect(waiting).toBe(1)
      await eraser.query(`insert into "${s.name}".blob_deletions (blob_key, owner, expires_at) values ($1, 'eraser', $2)`, [key, Date.now() + 60_000])
      await eraser.query('commit')
      expect(await lease).toEqual(['deleting'])
    } finally {
      await eraser.end()
    }
    expect((await catalog.get(id!))!.status).toBe('pending')
  })

  it('the lease function reads media by primary key alone, even with plans made while the table was empty', async () => {
    const s = await schema()
    const catalog = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: s.name, poolSize: 2 })
    cleanups.push(() => catalog.close())
    await catalog.migrate()
    // auto_explain hands every plan the function runs to this client, as the plan it was run with.
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    cleanups.push(() => client.end())
    const plans: string[] = []
    client.on('notice', (notice) => plans.push(notice.message ?? ''))
    await client.query(`set search_path = "${s.name}"`)
    await client.query("load 'auto_explain'")
    await client.query('set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on; set client_min_messages = log')
    // What a long-lived connection holds once it switched to generic plans while `media` was new and unanalysed.
    await client.query('set plan_cache_mode = force_generic_plan')
    const lease = (id: string, owner: string) =>
      client.query<{ answer: string }>('select answer from mediagate_lease_blobs($1::bigint[], $2::json, $3::bigint)', [
        lockIds(['sha256/ab/cd/k']),
        JSON.stringify([{ id, owner, blob_key: 'sha256/ab/cd/k' }]),
        Date.now(),
      ])
    expect((await lease('med_unknown', 'w')).rows).toEqual([{ answer: 'lost' }])
    const ids = await seed(catalog, 3)
    expect(await catalog.claim({ owner: 'w', limit: 3, leaseMs: 60_000, crashLimit: 8 })).toHaveLength(3)
    expect((await lease(ids[0]!, 'other')).rows).toEqual([{ answer: 'lost' }])
    expect((await lease(ids[1]!, 'w')).rows).toEqual([{ answer: 'leased' }])
    const scans = plans.flatMap((plan) => [...plan.matchAll(/(\w[\w ]*Scan)(?: using (\w+))? on media\b/g)].map((m) => `${m[1]} ${m[2] ?? ''}`.trim()))
    expect(scans.length).toBeGreaterThan(0)
    expect(new Set(scans)).toEqual(new Set(['Index Scan media_pkey']))
    await client.query('set client_min_messages = warning')
    const { rows } = await client.query<{ id: string }>("select id from media where blob_lease_key = 'sha256/ab/cd/k'")
    expect(rows).toEqual([{ id: ids[1] }])
  })

  it('warns when autovacuum is off for the server or for a catalog table, saying how to turn it on', async () => {
    const s = await schema()
    const catalog = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: s.name, poolSize: 1 })
    cleanups.push(() => catalog.close())
    await catalog.migrate()
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    cleanups.push(() => client.end())
    const { rows } = await client.query<{ on: boolean }>(`select current_setting('autovacuum') = 'on' and current_setting('track_counts') = 'on' as on`)
    const serverWide = rows[0]!.on ? [] : [expect.stringMatching(/^PostgreSQL runs with (autovacuum|track_counts) = off: .*ALTER SYSTEM SET/)]
    expect(await catalog.serverWarnings()).toEqual(serverWide)
    await client.query(`alter table "${s.name}".media set (autovacuum_enabled = false)`)
    await client.query(`alter table "${s.name}".tasks set (autovacuum_enabled = off)`)
    // Any spelling PostgreSQL reads as false counts; one it reads as true does not.
    await client.query(`alter table "${s.name}".webhooks set (autovacuum_enabled = yes)`)
    expect(await catalog.serverWarnings()).toEqual([...serverWide, expect.stringMatching(/^autovacuum is disabled for media, tasks \(autovacuum_enabled = false\): .*ALTER TABLE <table> RESET \(autovacuum_enabled\)$/)])
    await client.query(`alter table "${s.name}".media reset (autovacuum_enabled)`)
    await client.query(`alter table "${s.name}".tasks reset (autovacuum_enabled)`)
    expect(await catalog.serverWarnings()).toEqual(serverWide)
  })

  it('rejects a schema name that is not a plain identifier', () => {
    expect(() => new PostgresCatalog({ connectionString: POSTGRES_URL, schema: 'x"; drop table y; --' })).toThrow(/schema/)
  })

  it('a server that is down fails as catalog (503), without the password in the message', async () => {
    const password = 'pa55-w0rd-secret'
    const catalog = await openCatalog(`postgres://mediagate:${password}@127.0.0.1:1/test`)
    cleanups.push(() => catalog.close())
    const err = (await catalog.ping().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error
    expect(err).toMatchObject({ code: 'catalog', status: 503, vendorCode: 'ECONNREFUSED' })
    expect(err.message).toMatch(/ECONNREFUSED/)
    expect(err.message).not.toContain(password)
    expect(JSON.stringify(err)).not.toContain(password)
    await expect(catalog.recordWebhooks([{ object: 'page', body: Buffer.from('{}'), receivedAt: new Date(), media: [] }])).rejects.toMatchObject({ code: 'catalog' })
  })
})
