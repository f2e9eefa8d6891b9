/** Named (prepared) statements on PostgreSQL: which texts get a name, and why `*` never does. */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { StatementNames } from '../../src/catalog/postgres-statement-names.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'

const available = await postgresAvailable()

describe('StatementNames', () => {
  it('names a text the same way every time and different texts differently', () => {
    const names = new StatementNames()
    const a = names.nameOf('select "id" from "media" where "id" = $1')
    expect(a).toMatch(/^mg_[\w-]{32}$/)
    expect(names.nameOf('select "id" from "media" where "id" = $1')).toBe(a)
    expect(new StatementNames().nameOf('select "id" from "media" where "id" = $1')).toBe(a)
    expect(names.nameOf('select "id" from "media" where "id" = $2')).not.toBe(a)
  })

  it('leaves statements whose columns come from a table unnamed, count(*) aside', () => {
    const names = new StatementNames()
    expect(names.nameOf('select * from "media" where "id" = $1')).toBeUndefined()
    expect(names.nameOf('update "media" set "status" = $1 returning *')).toBeUndefined()
    expect(names.nameOf('select "m".* from "media" as "m"')).toBeUndefined()
    expect(names.nameOf('select count(*) as "n" from "media"')).toBeDefined()
  })

  it('names at most `limit` texts, and keeps the names it gave', () => {
    const names = new StatementNames(2)
    const first = names.nameOf('select 1')
    expect(names.nameOf('select 2')).toBeDefined()
    expect(names.nameOf('select 3')).toBeUndefined()
    expect(names.nameOf('select 1')).toBe(first)
  })
})

describe.skipIf(!available)('named statements across a migration (PostgreSQL)', () => {
  let schema: TestSchema | undefined
  let client: pg.Client | undefined
  afterEach(async () => {
    await client?.end()
    await schema?.drop()
  })

  it('a named statement with its own columns survives a column added meanwhile; a named select * would not', async () => {
    schema = await createTestSchema()
    client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema.name}` })
    await client.connect()
    await client.query('create table t (id int primary key, a text)')
    await client.query(`insert into t values (1, 'x')`)
    const names = new StatementNames()
    const own = 'select "id", "a" from t where id = $1'
    const star = 'select * from t where id = $1'
    const run = (text: string, name: string | undefined) => client!.query({ text, values: [1], ...(name ? { name } : {}) })
    await run(own, names.nameOf(own))
    await run(star, 'star')
    // Another gateway's migration, on another connection.
    const other = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema.name}` })
    await other.connect()
    await other.query('alter table t add column b int')
    await other.end()
    expect((await run(own, names.nameOf(own))).rows).toEqual([{ id: 1, a: 'x' }])
    await expect(run(star, 'star')).rejects.toThrow(/cached plan must not change result type/)
    expect(names.nameOf(star)).toBeUndefined()
    expect((await run(star, names.nameOf(star))).rows).toEqual([{ id: 1, a: 'x', b: null }])
  })
})
