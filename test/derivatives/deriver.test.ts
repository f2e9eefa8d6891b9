/**
 * The deriver on a real SQLite catalog and a real disk blob store: a photo decoded in memory or
 * from its private file gives the same verified, durable thumbnails; corrupt bytes are a failed
 * derivation with a reason; a blob gone from under its record is an error, not an outcome.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { readFile, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { DiskBlobStore } from '../../src/blobs/disk-blob-store.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { Deriver } from '../../src/derivatives/deriver.js'
import { sampleJpeg } from '../../src/emulator/sample-media.js'
import type { MediaRecord } from '../../src/media/record.js'
import { newMedia, webhook } from '../catalog/fixtures.js'

let dir: string
let catalog: SqliteCatalog
let blobs: DiskBlobStore
const signal = new AbortController().signal

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'deriver-'))
  catalog = new SqliteCatalog({ path: path.join(dir, 'catalog.db') })
  await catalog.migrate()
  blobs = new DiskBlobStore(path.join(dir, 'blobs'))
  await blobs.init()
})
afterAll(async () => {
  await blobs?.close()
  await catalog?.close()
})

/** A media stored with `bytes`, as capture leaves it. */
async function stored(bytes: Buffer): Promise<MediaRecord> {
  const put = await blobs.put(Readable.from([bytes]))
  const [recorded] = await catalog.recordWebhooks([webhook([newMedia()])])
  const [job] = await catalog.claim({ owner: 'test', limit: 1, leaseMs: 60_000, crashLimit: 5 })
  expect(job!.id).toBe(recorded!.created[0]!.id)
  await catalog.settle(job!.id, 'test', { status: 'stored', sha256: put.sha256, size: put.size, blobKey: put.key, sniffedMime: 'image/jpeg', mimeType: 'image/jpeg' })
  return (await catalog.get(job!.id))!
}

const deriver = (inMemoryImageBytes?: number) =>
  new Deriver({ catalog, blobs, ffmpeg: undefined, maxPixels: 50_000_000, stripMetadata: false, discardBlobs: async () => {}, ...(inMemoryImageBytes !== undefined ? { inMemoryImageBytes } : {}) })

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('Deriver', () => {
  it('stores three verified thumbnails and records facts, whether the photo is read into memory or copied to a file', async () => {
    const results = []
    for (const limit of [undefined, 0]) {
      const media = await stored(sampleJpeg(limit === undefined ? 31 : 32))
      const outcome = await deriver(limit).derive(media, signal)
      expect(outcome).toMatchObject({ status: 'done', error: null, facts: { width: 1600, height: 1200 } })
      expect(outcome!.ready.map((r) => r.name)).toEqual(['thumb96', 'thumb320', 'thumb640'])
      for (const r of outcome!.ready) {
        // Content-addressed: the bytes in place hash to their key, and are the size recorded.
        const bytes = await readFile(path.join(blobs.root, r.blobKey))
        expect(blobKeyFor(sha256(bytes))).toBe(r.blobKey)
        expect(bytes.length).toBe(r.size)
        expect((await sharp(bytes).metadata()).format).toBe('webp')
      }
      const after = await catalog.get(media.id)
      expect(after).toMatchObject({ width: 1600, height: 1200, derivatives: { status: 'done', error: null } })
      expect(after!.placeholder).toBe(outcome!.facts.placeholder)
      const rows = await catalog.derivativesOf(media.id)
      expect(rows.map((r) => [r.name, r.size]).sort()).toEqual(outcome!.ready.map((r) => [r.name, r.size]).sort())
      results.push(outcome!)
    }
    // Same pixels, same outputs: the two ways of reading the blob decode the same picture.
    expect(results[0]!.ready.map((r) => r.blobKey)).toEqual(results[1]!.ready.map((r) => r.blobKey))
    expect(results[0]!.facts.placeholder).toBe(results[1]!.facts.placeholder)
  })

  it('records corrupt bytes as a failed derivation with the reason, storing nothing', async () => {
    const media = await stored(sampleJpeg(33).subarray(0, 30_000))
    const outcome = await deriver().derive(media, signal)
    expect(outcome).toMatchObject({ status: 'failed', ready: [] })
    expect(outcome!.error).toMatch(/^unprocessable_media: the image could not be decoded/)
    expect((await catalog.get(media.id))!.derivatives).toMatchObject({ status: 'failed', error: outcome!.error })
    expect(await catalog.derivativesOf(media.id)).toEqual([])
  })

  it('throws when the blob is gone from under its record, and records nothing', async () => {
    for (const limit of [undefined, 0]) {
      const media = await stored(sampleJpeg(limit === undefined ? 34 : 35))
      await unlink(path.join(blobs.root, media.blobKey!))
      await expect(deriver(limit).derive(media, signal)).rejects.toMatchObject({ code: 'not_found' })
      expect((await catalog.get(media.id))!.derivatives?.status ?? null).not.toBe('done')
      expect(await catalog.derivativesOf(media.id)).toEqual([])
    }
  })
})
