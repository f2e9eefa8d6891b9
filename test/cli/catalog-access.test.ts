/**
 * Only `serve` and `migrate` create a catalog. Every other command needs an existing one and
 * says where it looked when there is none, creating nothing; commands that only read open it so
 * that nothing can be written (SQLite read-only, PostgreSQL read-only transactions).
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openCatalog } from '../../src/catalog/open-catalog.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { type CliResult, runCli } from '../helpers/run-cli.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'

/** The built binary run from `cwd`. */
const runIn = (cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, env, 30_000, cwd)

const MISSING = /^mediagate: not_found: no mediagate catalog at (.+): point MEDIAGATE_DATABASE_URL \(--database-url\) or MEDIAGATE_DATA_DIR \(--data-dir\) at the existing one, or run `mediagate migrate` to create it$/m

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-access-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('a command run where there is no catalog', () => {
  it('status in a directory without one fails naming ./data/mediagate.db and creates nothing', async () => {
    const cwd = path.join(dir, 'empty')
    await mkdir(cwd)
    const run = await runIn(cwd, ['status'])
    expect(run.code).toBe(1)
    expect(MISSING.exec(run.stderr)?.[1]).toBe(path.join(cwd, 'data', 'mediagate.db'))
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(await readdir(cwd)).toEqual([])
  })

  it('every command but serve and migrate refuses to make one', async () => {
    const cwd = path.join(dir, 'still-empty')
    await mkdir(cwd)
    for (const args of [['ls'], ['forwards', '--retry'], ['verify', '--quarantine'], ['delete', 'med_1'], ['sweep'], ['capture'], ['scan', '--release', 'med_1']]) {
      const run = await runIn(cwd, args)
      expect(run.code, args.join(' ')).toBe(1)
      expect(run.stderr, args.join(' ')).toMatch(MISSING)
    }
    expect(await readdir(cwd)).toEqual([])
  }, 60_000)

  it('a database URL into directories that do not exist names the path and creates none of them', async () => {
    const target = path.join(dir, 'nonexistent', 'dir', 'x.db')
    for (const run of [await runIn(dir, ['ls', '--database-url', `sqlite:${target}`]), await runIn(dir, ['ls'], { MEDIAGATE_DATABASE_URL: `sqlite:${target}` })]) {
      expect(run.code).toBe(1)
      expect(MISSING.exec(run.stderr)?.[1]).toBe(target)
    }
    expect(existsSync(path.join(dir, 'nonexistent'))).toBe(false)
  })
})

describe('an existing SQLite catalog', () => {
  let dataDir: string
  let db: string
  beforeAll(async () => {
    dataDir = path.join(dir, 'made')
    const made = await runIn(dir, ['migrate', '--data-dir', dataDir])
    expect(made.code, made.stderr).toBe(0)
    db = path.join(dataDir, 'mediagate.db')
  })

  // Five real CLI processes one after the other: bounded work, slow only on a loaded machine.
  it('is read by ls, status, forwards, verify and doctor without a byte of it changing', { timeout: 120_000 }, async () => {
    const before = await stat(db)
    const bytes = createHash('sha256').update(await readFile(db)).digest('hex')
    // mtime has a granularity: give a write time to show.
    await new Promise((r) => setTimeout(r, 50))
    for (const args of [['ls'], ['ls', '--json'], ['status', '--json'], ['forwards'], ['verify'], ['doctor']]) {
      const run = await runIn(dir, [...args, '--data-dir', dataDir])
      expect(run.stderr, args.join(' ')).not.toMatch(/^mediagate: /m)
    }
    const after = await stat(db)
    expect(after.mtimeMs).toBe(before.mtimeMs)
    expect(after.size).toBe(before.size)
    expect(createHash('sha256').update(await readFile(db)).digest('hex')).toBe(bytes)
  })

  it('is changed by the commands that write', async () => {
    const run = await runIn(dir, ['retry', '--status', 'failed', '--data-dir', dataDir])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('requeued 0 media')
  })

  it('opened `read`, refuses writes; a file that is not a catalog is missing, not migrated', async () => {
    const reader = await openCatalog(`sqlite:${db}`, { access: 'read' })
    try {
      await expect(reader.requeue({ status: 'failed' })).rejects.toMatchObject({ code: 'catalog' })
      expect(await reader.counts()).toEqual([])
    } finally {
      await reader.close()
    }
    const stranger = path.join(dir, 'stranger.db')
    await (await openCatalog(`sqlite:${stranger}`)).close() // an empty SQLite file, no tables
    await expect(openCatalog(`sqlite:${stranger}`, { access: 'write' })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining(stranger) })
    await expect(openCatalog('sqlite::memory:', { access: 'read' })).rejects.toMatchObject({ code: 'not_found' })
  })
})

const pgAvailable = await postgresAvailable()

describe.skipIf(!pgAvailable)('PostgreSQL', () => {
  let schema: TestSchema
  beforeAll(async () => {
    schema = await createTestSchema('mg_access')
  })
  afterAll(async () => schema?.drop())

  const tables = async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    try {
      return (await client.query('select table_name from information_schema.tables where table_schema = $1', [schema.name])).rows.length
    } finally {
      await client.end()
    }
  }

  it('read (and write) on a schema without mediagate tables fails clearly, creating none', async () => {
    for (const args of [['ls'], ['retry', 'med_1']]) {
      const run = await runIn(dir, args, { MEDIAGATE_DATABASE_URL: schema.url })
      expect(run.code, args.join(' ')).toBe(1)
      const where = MISSING.exec(run.stderr)?.[1]
      expect(where).toBe(`${POSTGRES_URL} (schema ${schema.name})`)
    }
    expect(await tables()).toBe(0)
  })

  it('migrate creates it; then ls reads it, over connections that refuse writes', async () => {
    const made = await runIn(dir, ['migrate'], { MEDIAGATE_DATABASE_URL: schema.url })
    expect(made.code, made.stderr).toBe(0)
    const ls = await runIn(dir, ['ls', '--json'], { MEDIAGATE_DATABASE_URL: schema.url })
    expect(ls.code, ls.stderr).toBe(0)
    const reader = await openCatalog(schema.url, { access: 'read' })
    try {
      await expect(reader.requeue({ status: 'failed' })).rejects.toMatchObject({ code: 'catalog' })
      expect(await reader.counts()).toEqual([])
    } finally {
      await reader.close()
    }
  })

  it('doctor warns about a catalog table with autovacuum off, saying how to turn it back on', async () => {
    expect((await runIn(dir, ['migrate'], { MEDIAGATE_DATABASE_URL: schema.url })).code).toBe(0)
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    try {
      await client.query(`alter table "${schema.name}".media set (autovacuum_enabled = false)`)
      // Its own directory: doctor prepares the disk blob store there as a gateway would.
      const run = await runIn(await mkdtemp(path.join(dir, 'doctor-')), ['doctor'], { MEDIAGATE_DATABASE_URL: schema.url, META_APP_SECRET: 'app-secret-for-doctor', MEDIAGATE_API_KEY: 'api-key-for-doctor' })
      expect(run.stdout).toMatch(/^\[WARN\] catalog\s+postgres: reachable, \d+ media; .*autovacuum is disabled for media \(autovacuum_enabled = false\): .*RESET \(autovacuum_enabled\)$/m)
    } finally {
      await client.query(`alter table "${schema.name}".media reset (autovacuum_enabled)`)
      await client.end()
    }
  })

  it('never shows the password of the URL it names', async () => {
    const url = new URL(schema.url)
    url.password = 'hunter2-not-real'
    url.searchParams.set('schema', `${schema.name}_none`)
    const run = await runIn(dir, ['ls'], { MEDIAGATE_DATABASE_URL: url.toString() })
    expect(run.code).toBe(1)
    expect(run.stderr).not.toContain('hunter2')
  })
})
