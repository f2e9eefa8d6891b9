/**
 * The conformance suite on the threaded SQLite catalog (what the gateway uses): every call
 * crosses a worker-thread boundary, with Dates and Buffers, and errors keep their codes.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { openThreadedSqliteCatalog } from '../../src/catalog/threaded-sqlite-catalog.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { SqliteReader, UNANSWERED } from '../../src/catalog/sqlite-reader.js'
import { MediagateError } from '../../src/errors.js'
import { newMedia, webhook } from './fixtures.js'
import { catalogConformance, type TestCatalog } from './conformance.js'

catalogConformance('sqlite on a worker thread', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-thread-'))
  const file = path.join(dir, 'catalog.db')
  return {
    open: async () => openThreadedSqliteCatalog({ path: file }) as TestCatalog,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})

describe('threaded SQLite catalog', () => {
  it('reports a file it cannot open as invalid_config, and a closed catalog as catalog', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-thread-'))
    const notADirectory = path.join(dir, 'file')
    await writeFile(notADirectory, 'x')
    const bad = openThreadedSqliteCatalog({ path: path.join(notADirectory, 'catalog.db') })
    const err = await bad.ping().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MediagateError)
    expect((err as MediagateError).code).toBe('invalid_config')
    expect(((await bad.close().catch((e: unknown) => e)) as MediagateError).code).toBe('invalid_config')
    const closed = await bad.ping().catch((e: unknown) => e)
    expect((closed as MediagateError).code).toBe('catalog')
    await rm(dir, { recursive: true, force: true })
  })

  it('answers get on the calling thread once the schema exists, and leaves the rest to the thread', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-reader-'))
    const file = path.join(dir, 'catalog.db')
    const reader = new SqliteReader(file)
    expect(reader.get('med_00000000000000000000000000')).toBe(UNANSWERED)
    const writer = new SqliteCatalog({ path: file })
    expect(reader.get('med_00000000000000000000000000')).toBe(UNANSWERED)
    await writer.migrate()
    const [recorded] = await writer.recordWebhooks([webhook([newMedia()])])
    const record = recorded!.created[0]!
    expect(reader.get(record.id)).toEqual(await writer.get(record.id))
    expect(reader.get('med_00000000000000000000000000')).toBeUndefined()
    // A write the thread commits is visible to the next read.
    await writer.markDeleted([record.id], new Date())
    expect((reader.get(record.id) as { status: string }).status).toBe('deleted')
    reader.close()
    expect(reader.get(record.id)).toBe(UNANSWERED)
    await writer.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('checkpoints the WAL in the background, so commits do not have to', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-checkpoint-'))
    const file = path.join(dir, 'catalog.db')
    const catalog = openThreadedSqliteCatalog({ path: file })
    try {
      await catalog.migrate()
      const sizeBefore = (await stat(file)).size
      for (let i = 0; i < 20; i++) await catalog.recordWebhooks(Array.from({ length: 25 }, () => webhook([newMedia()])))
      // Far below the writer's own threshold: only the background checkpointer moves pages into the file.
      let sizeAfter = sizeBefore
      for (let i = 0; i < 100 && sizeAfter <= sizeBefore; i++) {
        await new Promise((r) => setTimeout(r, 50))
        sizeAfter = (await stat(file)).size
      }
      expect(sizeAfter).toBeGreaterThan(sizeBefore)
    } finally {
      await catalog.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
