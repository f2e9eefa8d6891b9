/** The conformance suite on PostgreSQL (a fresh schema per test), plus URL, schema and outage handling. */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { openCatalog } from '../../src/catalog/open-catalog.js'
import { PostgresCatalog } from '../../src/catalog/postgres-catalog.js'
import { LATEST_VERSION } from '../../src/catalog/migrations/index.js'
import { createTestSchema, dropSchema, type TestSchema, uniqueSchemaName } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'
import { catalogConformance } from './conformance.js'
import { seed } from './fixtures.js'

const available = await postgresAvailable()

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
      expect(tables.rows.map((r) => r.table_name)).toEqual(['forwards', 'media', 'mediagate_migrations', 'webhooks'])
      const rows = await client.query(`select count(*)::int as n from "${s.name}".media`)
      expect(rows.rows[0].n).toBe(2)
    } finally {
      await client.end()
    }
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
