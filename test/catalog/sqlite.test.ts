/** The conformance suite on SQLite, plus what only SQLite has: pragmas, files, the write lock. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openCatalog } from '../../src/catalog/open-catalog.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { catalogConformance } from './conformance.js'
import { seed } from './fixtures.js'

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'mediagate-catalog-'))
}

catalogConformance('sqlite', async () => {
  const dir = await tempDir()
  const file = path.join(dir, 'catalog.db')
  return {
    open: async () => new SqliteCatalog({ path: file }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})

describe('SqliteCatalog', () => {
  let dir: string
  const opened: SqliteCatalog[] = []
  beforeEach(async () => {
    dir = await tempDir()
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()))
    await rm(dir, { recursive: true, force: true })
  })
  const track = <T extends SqliteCatalog>(c: T): T => {
    opened.push(c)
    return c
  }

  it('runs in WAL mode with synchronous=FULL and foreign keys on', async () => {
    const catalog = track(new SqliteCatalog({ path: path.join(dir, 'c.db'), busyTimeoutMs: 1234 }))
    expect(catalog.pragma('journal_mode')).toBe('wal')
    expect(catalog.pragma('synchronous')).toBe(2)
    // Statement journals (every statement that fires the count triggers) in memory, not in a temp file.
    expect(catalog.pragma('temp_store')).toBe(2)
    expect(catalog.pragma('foreign_keys')).toBe(1)
    expect(catalog.pragma('busy_timeout')).toBe(1234)
  })

  it('openCatalog accepts sqlite:, file: and plain paths and creates missing directories', async () => {
    const forms = [
      [`sqlite:${path.join(dir, 'a', 'one.db')}`, path.join(dir, 'a', 'one.db')],
      [`sqlite://${path.join(dir, 'b', 'two.db')}`, path.join(dir, 'b', 'two.db')],
      [`file://${path.join(dir, 'c', 'three.db')}`, path.join(dir, 'c', 'three.db')],
      [path.join(dir, 'd', 'four.db'), path.join(dir, 'd', 'four.db')],
    ] as const
    for (const [url, file] of forms) {
      const catalog = track((await openCatalog(url)) as SqliteCatalog)
      expect(catalog).toBeInstanceOf(SqliteCatalog)
      expect(catalog.dialect).toBe('sqlite')
      expect(catalog.path).toBe(file)
      await catalog.migrate()
      expect(await seed(catalog, 1)).toHaveLength(1)
    }
  })

  it('fails to open with invalid_config when the file cannot be created', async () => {
    const blocker = path.join(dir, 'not-a-dir')
    track(new SqliteCatalog({ path: blocker }))
    await expect(openCatalog(`sqlite:${path.join(blocker, 'x.db')}`)).rejects.toMatchObject({ code: 'invalid_config' })
  })

  it('waits for another connection holding the write lock, then fails with catalog (SQLITE_BUSY)', async () => {
    const file = path.join(dir, 'busy.db')
    const catalog = track(new SqliteCatalog({ path: file, busyTimeoutMs: 150 }))
    await catalog.migrate()
    await seed(catalog, 3)
    const other = new BetterSqlite3(file)
    try {
      other.exec('BEGIN IMMEDIATE')
      const started = Date.now()
      await expect(catalog.claim({ owner: 'w', limit: 1, leaseMs: 1000, crashLimit: 8 })).rejects.toMatchObject({ code: 'catalog', vendorCode: 'SQLITE_BUSY' })
      expect(Date.now() - started).toBeGreaterThanOrEqual(100)
      // Readers are not blocked by a writer in WAL mode.
      expect((await catalog.counts())[0]?.count).toBe(3)
      other.exec('COMMIT')
      expect(await catalog.claim({ owner: 'w', limit: 1, leaseMs: 1000, crashLimit: 8 })).toHaveLength(1)
    } finally {
      other.close()
    }
  })
})
