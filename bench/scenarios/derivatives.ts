/**
 * Derivatives: (1) thumbnails per second of 2 MP JPEG photos through mediagate's deriver (blob
 * read, a private copy, three WebP sizes and the placeholder, blobs stored and reserved, facts
 * recorded in the catalog) against sharp called directly for the same three sizes in the same
 * run; (2) the capture rate of a gateway with derivation on (the default, one derivation at a
 * time) against off, on the same photos.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import sharp from 'sharp'
import { openBlobStore } from '../../src/blobs/open-blob-store.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { Deriver } from '../../src/derivatives/deriver.js'
import { THUMBNAIL_SIZES } from '../../src/derivatives/image.js'
import { sampleJpeg } from '../../src/emulator/sample-media.js'
import { startEmulator } from '../../src/emulator/index.js'
import { captureAll } from '../lib/capture-run.js'
import type { BenchContext } from '../lib/context.js'
import { ACCESS_TOKEN, APP_SECRET, startGateway } from '../lib/gateway-child.js'
import { GatewayClient } from '../lib/gateway-client.js'
import { registerMedia } from '../lib/media-set.js'
import { type Row, row } from '../lib/report.js'
import type { Scenario } from '../lib/scenario.js'
import { rate } from '../lib/stats.js'

/** A 2 MP photo (1600×1200), different bytes per index (a JPEG comment), the same pixels. */
const photo = (i: number) => sampleJpeg(10_000 + i)

async function thumbnails(ctx: BenchContext, count: number): Promise<{ rows: Row[]; details: object }> {
  const dir = path.join(ctx.workDir, 'derive')
  await mkdir(dir, { recursive: true })
  const catalog = new SqliteCatalog({ path: path.join(dir, 'catalog.db') })
  await catalog.migrate()
  const blobs = await openBlobStore(`file:${path.join(dir, 'blobs')}`)
  await blobs.init()
  try {
    // Stored photos, as capture leaves them.
    const ids: string[] = []
    for (let i = 0; i < count + 5; i++) {
      const body = photo(i)
      const put = await blobs.put(Readable.from([body]))
      const [recorded] = await catalog.recordWebhooks([{ object: 'whatsapp_business_account', body: Buffer.from(`{"n":${i}}`), receivedAt: new Date(), media: [benchMedia(i)] }])
      const id = recorded!.created[0]!.id
      const [job] = await catalog.claim({ owner: 'bench', limit: 1, leaseMs: 60_000, crashLimit: 5 })
      await catalog.settle(job!.id, 'bench', { status: 'stored', sha256: put.sha256, size: put.size, blobKey: put.key, sniffedMime: 'image/jpeg', mimeType: 'image/jpeg' })
      ids.push(id)
    }
    const deriver = new Deriver({ catalog, blobs, ffmpeg: undefined, maxPixels: 50_000_000, stripMetadata: false, discardBlobs: async () => {} })
    const signal = new AbortController().signal
    const files = await Promise.all(Array.from({ length: count + 5 }, async (_, i) => {
      const file = path.join(dir, `photo-${i}.jpg`)
      await writeFile(file, photo(i))
      return file
    }))
    // Warm-up of both, outside the timed runs.
    for (const id of ids.slice(count)) await deriver.derive((await catalog.get(id))!, signal)
    for (const file of files.slice(count)) await direct(file)
    ctx.log(`  mediagate deriver: ${count} photos, one at a time`)
    let t0 = performance.now()
    for (const id of ids.slice(0, count)) {
      const outcome = await deriver.derive((await catalog.get(id))!, signal)
      if (outcome?.status !== 'done') throw new Error(`derivation ${outcome?.status}: ${outcome?.error}`)
    }
    const oursMs = performance.now() - t0
    ctx.log(`  sharp directly: ${count} photos, one at a time`)
    t0 = performance.now()
    for (const file of files.slice(0, count)) await direct(file)
    const directMs = performance.now() - t0
    const rows = [
      row({
        scenario: 'derivatives',
        metric: 'photos thumbnailed per second (2 MP JPEG → WebP 96, 320, 640)',
        unit: 'photos/s',
        value: rate(count, oursMs),
        baseline: { name: 'sharp called directly, same sizes', value: rate(count, directMs) },
        target: { kind: 'ratio-at-least', value: 0.8 },
        note: 'mediagate also reads the blob into memory (a private read-only file for images over 16 MiB), makes the ThumbHash placeholder, stores three blobs and records facts',
      }),
    ]
    return { rows, details: { count, oursMs, directMs } }
  } finally {
    await blobs.close()
    await catalog.close()
  }
}

/** What an application would write by hand: the three thumbnails, nothing else. */
async function direct(file: string): Promise<void> {
  const image = sharp(file, { autoOrient: true })
  await Promise.all(THUMBNAIL_SIZES.map((size) => image.clone().resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true }).webp({ quality: 75 }).toBuffer()))
}

function benchMedia(i: number) {
  return {
    platform: 'whatsapp' as const,
    accountId: '1',
    messageId: `wamid.bench-${i}`,
    attachmentIndex: 0,
    senderId: null,
    direction: 'inbound' as const,
    kind: 'image' as const,
    sourceType: 'image',
    sourceMediaId: String(i),
    sourceUrl: null,
    sourceExpiresAt: null,
    declaredMime: 'image/jpeg',
    declaredSha256: null,
    declaredSize: null,
    filename: null,
    caption: null,
    voice: null,
    animated: null,
    sentAt: null,
    error: null,
  }
}

async function captureCost(ctx: BenchContext, count: number): Promise<{ rows: Row[]; details: object }> {
  const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
  try {
    const runs: Record<string, number> = {}
    const details: Record<string, object> = {}
    for (const derive of ['0', '1']) {
      const gateway = await startGateway(ctx, { label: `derive-${derive}`, emulatorUrl: emulator.url, env: { MEDIAGATE_DERIVE: derive } })
      const client = new GatewayClient(gateway.url)
      try {
        await captureAll(client, registerMedia(emulator, { count: 20, size: 0, mixed: true, bytes: (i) => photo(900_000 + i) }), 60_000)
        const set = registerMedia(emulator, { count, size: 0, mixed: true, bytes: (i) => photo((derive === '1' ? 500_000 : 600_000) + i) })
        ctx.log(`  gateway, MEDIAGATE_DERIVE=${derive}: ${count} photos`)
        const stats = await captureAll(client, set, 300_000)
        if (stats.failed) throw new Error(`${stats.failed} captures failed: ${JSON.stringify(stats.failures)}`)
        runs[derive] = stats.mediaPerSecond
        details[`derive=${derive}`] = stats
      } finally {
        await client.close()
        await gateway.discard()
      }
    }
    return {
      rows: [
        row({
          scenario: 'derivatives',
          metric: 'captures/s of 2 MP photos, derivation on (default) vs off',
          unit: 'media/s',
          value: runs['1']!,
          baseline: { name: 'MEDIAGATE_DERIVE=0', value: runs['0']! },
          target: { kind: 'ratio-at-least', value: 0.9 },
          note: 'deriving runs beside capture, one at a time (MEDIAGATE_DERIVE_CONCURRENCY=1); no added latency',
        }),
      ],
      details,
    }
  } finally {
    await emulator.close()
  }
}

export const derivatives: Scenario = {
  name: 'derivatives',
  title: 'Derivatives: thumbnails per second, and what derivation costs capture',
  async run(ctx) {
    const sizes = ctx.quick ? { photos: 20, captures: 200 } : { photos: 100, captures: 1000 }
    const thumbs = await thumbnails(ctx, sizes.photos)
    const cost = await captureCost(ctx, sizes.captures)
    return {
      scenario: 'derivatives',
      rows: [...thumbs.rows, ...cost.rows],
      details: { sizes, thumbnails: thumbs.details, capture: cost.details },
      notes: ['Photos are the emulator sample (1600×1200 JPEG, ~390 KB), each with different bytes and the same pixels.'],
    }
  },
}
