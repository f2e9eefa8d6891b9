import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { DiskBlobStore } from '../../src/blobs/disk-blob-store.js'
import { MediagateError } from '../../src/errors.js'
import { blobStoreConformance } from './conformance.js'
import { chunkedSource, contentsSharing, readAll, sampleBytes, sha256 } from './fixtures.js'
import { HOSTILE_KEYS } from './hostile-keys.js'

async function tempRoot(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'mediagate-blobs-'))
}

blobStoreConformance(
  'disk',
  async () => {
    const root = await tempRoot()
    const store = new DiskBlobStore(path.join(root, 'blobs'))
    return {
      store,
      leftovers: async () => readdir(path.join(store.root, '.tmp')),
      corrupt: (key, bytes) => writeFile(path.join(store.root, key), bytes),
      // Its temp directory is gone: a large put fails opening its temp file, a small one in the
      // durable writer's finish.
      brokenStore: async () => {
        const broken = new DiskBlobStore(path.join(root, 'broken'))
        await broken.init()
        await rm(path.join(broken.root, '.tmp'), { recursive: true })
        return { store: broken, code: 'storage' }
      },
      cleanup: () => rm(root, { recursive: true, force: true }),
    }
  },
  // A buffering store would grow by the full 20 MB; streaming keeps a few chunks in flight.
  { bigPut: { bytes: 20 * 1024 * 1024, maxGrowthBytes: 4 * 1024 * 1024 }, rewritesSmallRepeats: false },
)

describe('DiskBlobStore on disk', () => {
  it('lays blobs out at <root>/sha256/ab/cd/<hex> with nothing else but empty .tmp', async () => {
    const root = await tempRoot()
    try {
      const store = new DiskBlobStore(root)
      await store.init()
      const bytes = sampleBytes(100)
      const { key } = await store.put(Readable.from([bytes]))
      expect(key).toBe(blobKeyFor(sha256(bytes)))
      expect((await readFile(path.join(root, ...key.split('/')))).equals(bytes)).toBe(true)
      expect((await readdir(root)).sort()).toEqual(['.tmp', 'sha256'])
      expect(await readdir(path.join(root, '.tmp'))).toEqual([])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('init() removes stale leftovers of interrupted puts and keeps the blobs and puts in progress', async () => {
    const root = await tempRoot()
    try {
      const store = new DiskBlobStore(root)
      await store.init()
      const { key } = await store.put(Readable.from([Buffer.from('keep me')]))
      const tmp = path.join(root, '.tmp')
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000)
      await writeFile(path.join(tmp, 'crashed-1.part'), 'half a file')
      await utimes(path.join(tmp, 'crashed-1.part'), twoHoursAgo, twoHoursAgo)
      await mkdir(path.join(tmp, 'odd-dir'))
      await writeFile(path.join(tmp, 'odd-dir', 'x'), 'x')
      await utimes(path.join(tmp, 'odd-dir'), twoHoursAgo, twoHoursAgo)
      await writeFile(path.join(tmp, 'in-progress.part'), 'another process is writing this')
      await store.init()
      expect(await readdir(tmp)).toEqual(['in-progress.part'])
      expect(await store.stat(key)).toEqual({ key, size: 7 })
      // After a crash, with nothing else sharing the directory: clean everything.
      await new DiskBlobStore(root, { staleAfterMs: 0 }).init()
      expect(await readdir(tmp)).toEqual([])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('replaces a damaged blob of the wrong size when the same bytes come again', async () => {
    const root = await tempRoot()
    try {
      const store = new DiskBlobStore(root)
      await store.init()
      const bytes = sampleBytes(5000)
      const { key } = await store.put(Readable.from([bytes]))
      await writeFile(path.join(root, key), bytes.subarray(0, 100))
      const again = await store.put(Readable.from([bytes]))
      expect(again.existed).toBe(false)
      expect((await readFile(path.join(root, key))).equals(bytes)).toBe(true)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('recreates a fan-out directory removed behind its back, and reads through a fresh descriptor', async () => {
    const root = await tempRoot()
    try {
      const store = new DiskBlobStore(root)
      await store.init()
      const bytes = sampleBytes(3000, 5)
      const { key } = await store.put(Readable.from([bytes]))
      expect((await store.readBytes(key, 0, 3000)).equals(bytes)).toBe(true)
      // An operator cleans up by hand: the directory the store remembers creating is gone.
      await rm(path.join(root, key.split('/').slice(0, 2).join('/')), { recursive: true })
      await expect(store.stat(key)).resolves.toBeUndefined()
      const again = await store.put(Readable.from([bytes]))
      expect(again).toMatchObject({ key, existed: false })
      expect((await readFile(path.join(root, key))).equals(bytes)).toBe(true)
      expect((await store.readBytes(key, 0, 3000)).equals(bytes)).toBe(true)
      await store.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('stores many concurrent puts into the same and different directories, each repeat found once stored', async () => {
    const root = await tempRoot()
    try {
      const store = new DiskBlobStore(root)
      await store.init()
      // Three leaves shared by several blobs, a first-level directory shared by more, 60 elsewhere;
      // every content put three times at once.
      const contents = [...contentsSharing('0a0b', 4), ...contentsSharing('0a0c', 4), ...contentsSharing('0a', 8), ...contentsSharing('ff00', 4)]
      contents.push(...Array.from({ length: 60 }, (_, i) => sampleBytes(2000 + i, i)))
      const puts = contents.flatMap((bytes) => [0, 1, 2].map(() => store.put(Readable.from([bytes]))))
      const results = await Promise.all(puts)
      for (const [i, bytes] of contents.entries()) {
        const mine = results.slice(i * 3, i * 3 + 3)
        expect(mine.map((r) => r.key)).toEqual(Array(3).fill(blobKeyFor(sha256(bytes))))
        // One of the three renamed it into place; the others found it there.
        expect(mine.filter((r) => !r.existed)).toHaveLength(1)
        expect((await readAll(await store.read(mine[0]!.key))).equals(bytes)).toBe(true)
      }
      expect(await readdir(path.join(root, '.tmp'))).toEqual([])
      await store.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('leaves no temp file behind when the source fails', async () => {
    const root = await tempRoot()
    try {
      const store = new DiskBlobStore(root)
      await store.init()
      const src = chunkedSource(1024 * 1024, { failAfter: 512 * 1024 })
      await expect(store.put(src.stream)).rejects.toMatchObject({ code: 'network' })
      expect(await readdir(path.join(root, '.tmp'))).toEqual([])
      expect(await readdir(path.join(root, 'sha256'))).toEqual([])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('fails with storage when the root cannot be a directory', async () => {
    const root = await tempRoot()
    try {
      await writeFile(path.join(root, 'file'), 'not a directory')
      const store = new DiskBlobStore(path.join(root, 'file'))
      const err = await store.init().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(MediagateError)
      expect((err as MediagateError).code).toBe('storage')
      await expect(store.put(Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'storage' })
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('refuses every hostile key before touching the filesystem', async () => {
    const root = await tempRoot()
    try {
      const inner = path.join(root, 'store')
      const store = new DiskBlobStore(inner)
      await store.init()
      // Bait outside the store that a traversal would reach.
      await writeFile(path.join(root, 'secret'), 'outside')
      for (const key of HOSTILE_KEYS) {
        await expect(store.stat(key), JSON.stringify(key)).rejects.toMatchObject({ code: 'bad_request' })
        await expect(store.read(key), JSON.stringify(key)).rejects.toMatchObject({ code: 'bad_request' })
        await expect(store.delete(key), JSON.stringify(key)).rejects.toMatchObject({ code: 'bad_request' })
        await expect(store.quarantine(key), JSON.stringify(key)).rejects.toMatchObject({ code: 'bad_request' })
      }
      expect(await readFile(path.join(root, 'secret'), 'utf8')).toBe('outside')
      expect((await readdir(root)).sort()).toEqual(['secret', 'store'])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
