import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobSink } from '../../src/blobs/blob-sink.js'

const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1000 + i, i))
const expected = Buffer.concat(chunks)

describe('BlobSink', () => {
  let dir: string
  let file: string
  let opened: FileHandle | undefined
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mediagate-sink-'))
    file = path.join(dir, 'f')
    opened = undefined
  })
  afterEach(async () => {
    await opened?.close().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  })

  /**
   * Opens the real temp file, optionally overriding some of its handle's methods (loosely typed:
   * `writev` is generic over the buffers it returns, which a plain override cannot match).
   */
  const opener = (override: (h: FileHandle) => Partial<Record<keyof FileHandle, unknown>> = () => ({})) => async () => {
    opened = await open(file, 'wx')
    return Object.assign(Object.create(opened) as FileHandle, override(opened))
  }

  it('keeps a blob that fits in memory there and never opens the file', async () => {
    let opens = 0
    const sink = new BlobSink({ open: () => (opens++, opener()()), memoryLimit: 1024 * 1024 })
    await pipeline(Readable.from(chunks), sink)
    expect(Buffer.concat(sink.memory!).equals(expected)).toBe(true)
    expect(opens).toBe(0)
  })

  it('spills to the file once over the limit, in order, flushing in the background and fsyncing at the end', async () => {
    let datasyncs = 0
    let syncs = 0
    const sink = new BlobSink({
      open: opener((h) => ({ datasync: () => (datasyncs++, h.datasync()), sync: () => (syncs++, h.sync()), writev: (b: Buffer[]) => h.writev(b) })),
      memoryLimit: 10 * 1024,
      flushEveryBytes: 8 * 1024,
    })
    await pipeline(Readable.from(chunks), sink)
    expect(sink.memory).toBeUndefined()
    expect((await readFile(file)).equals(expected)).toBe(true)
    expect(datasyncs).toBeGreaterThanOrEqual(1)
    expect(syncs).toBe(1)
  })

  it('finishes short writes: the kernel may take fewer bytes than offered', async () => {
    // At most 777 bytes per call, across buffer boundaries.
    const sink = new BlobSink({ open: opener((h) => ({ writev: async (b: Buffer[]) => h.writev([Buffer.concat(b).subarray(0, 777)]) })) })
    await pipeline(Readable.from(chunks), sink)
    expect((await readFile(file)).equals(expected)).toBe(true)
  })

  it('fails the write when a background flush failed: nothing is reported stored that was not', async () => {
    const sink = new BlobSink({
      open: opener((h) => ({ datasync: () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })), writev: (b: Buffer[]) => h.writev(b) })),
      flushEveryBytes: 4 * 1024,
    })
    await expect(pipeline(Readable.from(chunks), sink)).rejects.toMatchObject({ code: 'EIO' })
  })
})
