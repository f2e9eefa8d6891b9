import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileSink } from '../../src/blobs/file-sink.js'

const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1000 + i, i))
const expected = Buffer.concat(chunks)

describe('fileSink', () => {
  let dir: string
  let handle: FileHandle
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mediagate-sink-'))
    handle = await open(path.join(dir, 'f'), 'wx')
  })
  afterEach(async () => {
    await handle.close().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  })

  it('writes every byte in order, flushing in the background as it goes and fsyncing at the end', async () => {
    let datasyncs = 0
    let syncs = 0
    const counting = Object.assign(Object.create(handle) as FileHandle, {
      datasync: () => (datasyncs++, handle.datasync()),
      sync: () => (syncs++, handle.sync()),
      writev: (buffers: Buffer[]) => handle.writev(buffers),
    })
    await pipeline(Readable.from(chunks), fileSink(counting, { flushEveryBytes: 8 * 1024 }))
    expect((await readFile(path.join(dir, 'f'))).equals(expected)).toBe(true)
    expect(datasyncs).toBeGreaterThanOrEqual(1)
    expect(syncs).toBe(1)
  })

  it('finishes short writes: the kernel may take fewer bytes than offered', async () => {
    const stingy = Object.assign(Object.create(handle) as FileHandle, {
      // At most 777 bytes per call, across buffer boundaries.
      writev: async (buffers: Buffer[]) => handle.writev([Buffer.concat(buffers).subarray(0, 777)]),
    })
    await pipeline(Readable.from(chunks), fileSink(stingy))
    expect((await readFile(path.join(dir, 'f'))).equals(expected)).toBe(true)
  })

  it('fails the write when a background flush failed: nothing is reported stored that was not', async () => {
    const failing = Object.assign(Object.create(handle) as FileHandle, {
      datasync: () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
      writev: (buffers: Buffer[]) => handle.writev(buffers),
    })
    await expect(pipeline(Readable.from(chunks), fileSink(failing, { flushEveryBytes: 4 * 1024 }))).rejects.toMatchObject({ code: 'EIO' })
  })
})
