/**
 * The conformance suite on the threaded SQLite catalog (what the gateway uses): every call
 * crosses a worker-thread boundary, with Dates and Buffers, and errors keep their codes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { openThreadedSqliteCatalog } from '../../src/catalog/threaded-sqlite-catalog.js'
import { MediagateError } from '../../src/errors.js'
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
})
