/**
 * Every transfer destination holds the body to the Content-Length the source announced (issue
 * 12, defect 7). Meta declares no size for Messenger/Instagram media, so without this a body that
 * ends early, on whatever transport, would be stored or served as the whole media. Real streams
 * into a real disk blob store; the source is a response whose body has fewer or more bytes than
 * it announced (over HTTP/1.1 undici itself stops at Content-Length; this holds whatever did not).
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DiskBlobStore } from '../../src/blobs/disk-blob-store.js'
import type { FetchResponse } from '../../src/fetch/index.js'
import { toBlobStore, toBlobStoreAndClient, toClientVerified } from '../../src/transfer/destinations.js'
import type { OpenedSource } from '../../src/transfer/open-source.js'
import { sniffOpened, WHOLE_BODY_BYTES } from '../../src/transfer/sniffed-source.js'

const MAX = 10 * 1024 * 1024
let root: string
let store: DiskBlobStore
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mediagate-announced-'))
  store = new DiskBlobStore(root)
  await store.init()
})
afterAll(async () => {
  await store?.close()
  await rm(root, { recursive: true, force: true })
})

/** A CDN answer announcing `announced` bytes whose body carries `bytes`, in 16 KiB chunks. */
function opened(bytes: Buffer, announced: number): OpenedSource {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; at += 16 * 1024) chunks.push(bytes.subarray(at, at + 16 * 1024))
  const response: FetchResponse = {
    status: 200,
    headers: { 'content-length': String(announced), 'content-type': 'image/jpeg' },
    url: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/x.jpg',
    body: Readable.from(chunks),
    contentLength: announced,
  }
  return { response, expectedSha256: undefined, expectedSize: undefined, declaredMime: 'image/jpeg' }
}

async function blobCount(): Promise<number> {
  let n = 0
  for await (const _ of store.list()) n++
  return n
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const storeOptions = () => ({ maxBytes: MAX, signal: new AbortController().signal, client: { maxLagBytes: 1024 * 1024 } })

describe.each([
  ['shorter than announced', 100_000, 60_000, 'network'],
  ['longer than announced', 100_000, 140_000, 'integrity'],
] as const)('a body %s', (_what, announced, sent, code) => {
  it('is not stored (eager capture, mediagate capture)', async () => {
    const before = await blobCount()
    const source = await sniffOpened(opened(randomBytes(sent), announced), MAX)
    await expect(toBlobStore(source, store, storeOptions())).rejects.toMatchObject({ code })
    expect(await blobCount()).toBe(before)
  })

  it('is not stored when read whole, the fast case for small bodies (eager capture)', async () => {
    const before = await blobCount()
    const sniffed = sniffOpened(opened(randomBytes(sent), announced), MAX, { whole: true })
    await expect(sniffed.then((source) => toBlobStore(source, store, storeOptions()))).rejects.toMatchObject({ code })
    expect(await blobCount()).toBe(before)
  })

  it('is not stored, and its client sees an error, not an end (lazy serving)', async () => {
    const before = await blobCount()
    const source = await sniffOpened(opened(randomBytes(sent), announced), MAX)
    let settled = false
    const { client, done } = toBlobStoreAndClient(source, store, storeOptions(), async () => {
      settled = true
    })
    await expect(done).rejects.toMatchObject({ code })
    await expect(readAll(client)).rejects.toMatchObject({ code })
    expect(settled).toBe(false)
    expect(await blobCount()).toBe(before)
  })

  it('reaches its reader as an error, not an end, and is never reported verified (proxy, mediagate fetch)', async () => {
    const source = await sniffOpened(opened(randomBytes(sent), announced), MAX)
    let verified = false
    const errors: Error[] = []
    const reader = toClientVerified(source, { maxBytes: MAX, onVerified: async () => void (verified = true), onError: (err) => errors.push(err) })
    await expect(readAll(reader)).rejects.toMatchObject({ code })
    expect(verified).toBe(false)
    expect(errors[0]).toMatchObject({ code })
  })
})

describe('a body of exactly its Content-Length', () => {
  it('is read whole into one buffer when small, and stored as the stream of it would be', async () => {
    const bytes = randomBytes(100_000)
    const source = await sniffOpened(opened(bytes, bytes.length), MAX, { whole: true })
    expect(Buffer.isBuffer(source.body)).toBe(true)
    expect(source.length).toBe(bytes.length)
    const put = await toBlobStore(source, store, storeOptions())
    expect(put).toMatchObject({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })
    expect((await readAll(await store.read(put.blobKey))).equals(bytes)).toBe(true)
    // Past the fast case's size, the same call streams.
    const large = randomBytes(WHOLE_BODY_BYTES + 1)
    const streamed = await sniffOpened(opened(large, large.length), MAX, { whole: true })
    expect(Buffer.isBuffer(streamed.body)).toBe(false)
    expect((await toBlobStore(streamed, store, storeOptions())).size).toBe(large.length)
  })

  it('fails a small body read whole on what Meta declared, as a streamed one does', async () => {
    const bytes = randomBytes(50_000)
    const declared = (o: Partial<OpenedSource>) => ({ ...opened(bytes, bytes.length), ...o })
    const before = await blobCount()
    for (const wrong of [{ expectedSha256: createHash('sha256').update('other').digest('hex') }, { expectedSize: bytes.length + 1 }]) {
      const source = await sniffOpened(declared(wrong), MAX, { whole: true })
      expect(Buffer.isBuffer(source.body)).toBe(true)
      await expect(toBlobStore(source, store, storeOptions())).rejects.toMatchObject({ code: 'integrity' })
    }
    await expect(sniffOpened(opened(bytes, bytes.length), 40_000, { whole: true })).rejects.toMatchObject({ code: 'too_large' })
    expect(await blobCount()).toBe(before)
  })

  it('is stored, and read whole', async () => {
    const bytes = randomBytes(100_000)
    const put = await toBlobStore(await sniffOpened(opened(bytes, bytes.length), MAX), store, storeOptions())
    expect(put.size).toBe(bytes.length)
    const read = await readAll(toClientVerified(await sniffOpened(opened(bytes, bytes.length), MAX), { maxBytes: MAX }))
    expect(read.equals(bytes)).toBe(true)
  })
})
