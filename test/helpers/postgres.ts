/**
 * A fresh PostgreSQL schema per test (as pg-boss does): tests share the `test` database but
 * never each other's tables. The schema is created up front and dropped with everything in it.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { POSTGRES_URL } from './services.js'

export interface TestSchema {
  name: string
  /** POSTGRES_URL with `?schema=<name>`, ready for `openCatalog`. */
  url: string
  drop(): Promise<void>
}

/** A schema name no other test uses: `<prefix>_<pid>_<random>`. */
export function uniqueSchemaName(prefix = 'mg_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(5).toString('hex')}`
}

/** Creates a unique schema; call `drop()` when done (idempotent). */
export async function createTestSchema(prefix = 'mg_test'): Promise<TestSchema> {
  const name = uniqueSchemaName(prefix)
  await withClient((client) => client.query(`create schema "${name}"`))
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('schema', name)
  let dropped = false
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return
      dropped = true
      await dropSchema(name)
    },
  }
}

export async function dropSchema(name: string): Promise<void> {
  await withClient((client) => client.query(`drop schema if exists "${name}" cascade`))
}

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}
