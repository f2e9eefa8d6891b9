import { existsSync, readdirSync, readlinkSync } from 'node:fs'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { OpenFiles } from '../../src/blobs/open-files.js'
import { until } from '../helpers/until.js'

/** How many descriptors this process holds on `file` (Linux: /proc/self/fd). */
function openCount(file: string): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++
    } catch {
      // The descriptor readdir itself used is gone by now.
    }
  }
  return n
}

describe.skipIf(!existsSync('/proc/self/fd'))('OpenFiles', () => {
  let dir: string
  let files: OpenFiles
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mediagate-openfiles-'))
  })
  afterEach(async () => {
    files?.close()
    await rm(dir, { recursive: true, force: true })
  })

  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251))

  it('reads exact bytes at an offset and reuses one descriptor for the reads that follow', async () => {
    files = new OpenFiles()
    const file = path.join(dir, 'a')
    await writeFile(file, bytes)
    expect((await files.read(file, 0, 4096)).equals(bytes)).toBe(true)
    expect(openCount(file)).toBe(1)
    const again = await Promise.all([files.read(file, 100, 10), files.read(file, 4000, 96)])
    expect(again[0].equals(bytes.subarray(100, 110))).toBe(true)
    expect(again[1].equals(bytes.subarray(4000))).toBe(true)
    expect(openCount(file)).toBe(1)
  })

  it('forget stops reusing a replaced file: the next read sees the new bytes, the old descriptor closes', async () => {
    files = new OpenFiles()
    const file = path.join(dir, 'b')
    await writeFile(file, bytes)
    await files.read(file, 0, 16)
    const replacement = path.join(dir, 'b.new')
    await writeFile(replacement, Buffer.alloc(4096, 7))
    await rename(replacement, file)
    // Without forget, the open descriptor still reads the old inode.
    expect((await files.read(file, 0, 4))[0]).toBe(0)
    files.forget(file)
    expect((await files.read(file, 0, 4)).equals(Buffer.alloc(4, 7))).toBe(true)
    await until('only the new descriptor is open', () => openCount(file) === 1, { timeoutMs: 2000, intervalMs: 10 })
  })

  it('closes descriptors older than the ttl, and holds at most maxOpen', async () => {
    files = new OpenFiles({ ttlMs: 50, maxOpen: 2 })
    const names = ['c1', 'c2', 'c3'].map((n) => path.join(dir, n))
    for (const name of names) await writeFile(name, bytes)
    for (const name of names) await files.read(name, 0, 1)
    await until('the oldest is evicted', () => openCount(names[0]!) === 0, { timeoutMs: 2000, intervalMs: 10 })
    expect(openCount(names[1]!) + openCount(names[2]!)).toBe(2)
    await until('the sweep closes expired descriptors', () => names.every((n) => openCount(n) === 0), { timeoutMs: 2000, intervalMs: 10 })
  })

  it('fails on a file shorter than asked or missing, and caches neither', async () => {
    files = new OpenFiles()
    const file = path.join(dir, 'd')
    await writeFile(file, bytes)
    await expect(files.read(file, 4000, 97)).rejects.toMatchObject({ code: 'storage' })
    await until('the failed read released its descriptor', () => openCount(file) === 0, { timeoutMs: 2000, intervalMs: 10 })
    await expect(files.read(path.join(dir, 'missing'), 0, 1)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
