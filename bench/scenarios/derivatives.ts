/**
 * Derivatives: (1) thumbnails per second of 2 MP JPEG photos through mediagate's deriver (blob
 * read, three WebP sizes and the placeholder, blobs stored and reserved, facts recorded in the
 * catalog) against sharp called directly for the same three sizes in the same run, as many photos
 * at once as there are cores on both sides, and one at a time (the default); (2) the capture
 * rate of a gateway with derivation on (the default, one derivation at a time) against off, on
 * the same photos.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import sharp from 'sharp'
import { openBlobStore } from '../../src/blobs/open-blob-store.js'
import { openThreadedSqliteCatalog } from '../../src/catalog/threaded-sqlite-catalog.js'
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
import { inAlternatedRounds } from '../lib/timing.js'

/** A 2 MP photo (1600×1200), different bytes per index (a JPEG comment), the same pixels. */
const photo = (i: number) => sampleJpeg(10_000 + i)

async function thumbnails(ctx: BenchContext, count: number): Promise<{ rows: Row[]; details: object }> {
  const dir = path.join(ctx.workDir, 'derive')
  await mkdir(dir, { recursive: true })
  // The catalog as the gateway opens it: on its own thread, so its fsyncs do not hold up the
  // event loop the other derivation's sharp results come back on.
  const catalog = openThreadedSqliteCatalog({ path: path.join(dir, 'catalog.db') })
  await catalog.migrate()
  const blobs = await openBlobStore(`file:${path.join(dir, 'blobs')}`)
  await blobs.init()
  try {
    // Stored photos, as capture leaves them: one set per timed run of the deriver, and a few to warm up.
    const ids: string[] = []
    const stored = 2 * count + WARM_UP
    for (let i = 0; i < stored; i++) {
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
    const files = await Promise.all(Array.from({ length: count + WARM_UP }, async (_, i) => {
      const file = path.join(dir, `photo-${i}.jpg`)
      await writeFile(file, photo(i))
      return file
    }))
    const deriveOne = async (id: string) => {
      const outcome = await deriver.derive((await catalog.get(id))!, signal)
      if (outcome?.status !== 'done') throw new Error(`derivation ${outcome?.status}: ${outcome?.error}`)
    }
    // Warm-up of both, outside the timed runs.
    for (const id of ids.slice(2 * count)) await deriveOne(id)
    for (const file of files.slice(count)) await direct(file)

    // The same core budget on both sides. A derivation is held to one core by design (one libvips
    // thread, its sizes one after the other), and MEDIAGATE_DERIVE_CONCURRENCY says how many run at
    // once; sharp called directly spreads one photo's three sizes over every core. So the target's
    // row runs as many photos at once as there are cores on both sides, and the default setting (one
    // derivation at a time) is reported beside it against one photo at a time called directly.
    const cores = os.availableParallelism()
    ctx.log(`  mediagate deriver and sharp directly: ${count} photos each, ${cores} at a time (MEDIAGATE_DERIVE_CONCURRENCY=${cores}), in ${ROUNDS} alternated rounds`)
    const [oursParallelMs, directParallelMs] = await alternated(count, (from, to) => eachAtOnce(ids.slice(count + from, count + to), cores, deriveOne), (from, to) => eachAtOnce(files.slice(from, to), cores, direct))
    ctx.log(`  mediagate deriver and sharp directly: ${count} photos each, one at a time (the default), in ${ROUNDS} alternated rounds`)
    const [oursMs, directMs] = await alternated(count, (from, to) => eachAtOnce(ids.slice(from, to), 1, deriveOne), (from, to) => eachAtOnce(files.slice(from, to), 1, direct))
    const what = 'mediagate also reads the blob into memory (a private read-only file for images over 16 MiB), makes the ThumbHash placeholder, stores three blobs and records facts'
    const rows = [
      row({
        scenario: 'derivatives',
        metric: `photos thumbnailed per second (2 MP JPEG → WebP 96, 320, 640), ${cores} at a time`,
        unit: 'photos/s',
        value: rate(count, oursParallelMs),
        baseline: { name: `sharp called directly, same sizes, ${cores} at a time`, value: rate(count, directParallelMs) },
        target: { kind: 'ratio-at-least', value: 0.8 },
        note: `${what}; MEDIAGATE_DERIVE_CONCURRENCY=${cores}, one core per derivation`,
      }),
      row({
        scenario: 'derivatives',
        metric: 'photos thumbnailed per second, one at a time (the default: one core)',
        unit: 'photos/s',
        value: rate(count, oursMs),
        baseline: { name: 'sharp called directly, one photo at a time on every core', value: rate(count, directMs) },
        note: 'the default keeps deriving to one core, so the ratio here is the core budget as much as the deriver: no target',
      }),
    ]
    return { rows, details: { count, cores, oursMs, directMs, oursParallelMs, directParallelMs } }
  } finally {
    await blobs.close()
    await catalog.close()
  }
}

const WARM_UP = 5
/** Each side's photos are timed in this many alternated rounds (inAlternatedRounds). */
const ROUNDS = 4

/** Total milliseconds of `ours` and of `theirs` over `count` items, run as ROUNDS alternated slices. */
async function alternated(count: number, ours: (from: number, to: number) => Promise<void>, theirs: (from: number, to: number) => Promise<void>): Promise<[number, number]> {
  const ms: [number, number] = [0, 0]
  const sides = [ours, theirs] as const
  await inAlternatedRounds(ROUNDS, [0, 1] as const, async (side, round) => {
    const from = Math.round((round * count) / ROUNDS)
    const to = Math.round(((round + 1) * count) / ROUNDS)
    ms[side] += await timed(() => sides[side](from, to))
  })
  return ms
}

async function timed(run: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await run()
  return performance.now() - t0
}

/** `work` over `items`, at most `width` at once, in order of start. */
async function eachAtOnce<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane))
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

/**
 * The gateways of the on/off comparison, in this order (the first four in a quick run). The
 * machine has slow spells as long as a gateway or two: in one complete run both gateways on read
 * 0.81 × the two off around them, and one round's on/off ratio read 0.94-1.12 from round to round
 * of the same build (derive-probe.ts). Pairs in both orders, so that a spell or a drift over the
 * run falls on both sides alike, and eight gateways rather than four to average the spells out.
 */
const ORDER = ['0', '1', '1', '0', '1', '0', '0', '1'] as const

async function captureCost(ctx: BenchContext, count: number, gateways: number): Promise<{ rows: Row[]; details: object }> {
  const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
  try {
    const stored = { '0': 0, '1': 0 }
    const elapsedMs = { '0': 0, '1': 0 }
    const cpuMs = { '0': 0, '1': 0 }
    const details: Record<string, object[]> = { 'derive=0': [], 'derive=1': [] }
    for (const [round, derive] of ORDER.slice(0, gateways).entries()) {
      const gateway = await startGateway(ctx, { label: `derive-${derive}-${round}`, emulatorUrl: emulator.url, env: { MEDIAGATE_DERIVE: derive } })
      const client = new GatewayClient(gateway.url)
      try {
        await captureAll(client, registerMedia(emulator, { count: 20, size: 0, mixed: true, bytes: (i) => photo(900_000 + round * 1000 + i) }), 60_000)
        const set = registerMedia(emulator, { count, size: 0, mixed: true, bytes: (i) => photo(500_000 + round * 100_000 + i) })
        ctx.log(`  gateway, MEDIAGATE_DERIVE=${derive}: ${count} photos`)
        const stats = await captureAll(client, set, 300_000, { cpuPid: gateway.pid })
        if (stats.failed) throw new Error(`${stats.failed} captures failed: ${JSON.stringify(stats.failures)}`)
        stored[derive] += stats.stored
        elapsedMs[derive] += stats.elapsedMs
        cpuMs[derive] += stats.cpuMs ?? 0
        details[`derive=${derive}`]!.push(stats)
      } finally {
        await client.close()
        await gateway.discard()
      }
    }
    const runs = { '0': rate(stored['0'], elapsedMs['0']), '1': rate(stored['1'], elapsedMs['1']) }
    const cpuPerMedia = (derive: '0' | '1') => (cpuMs[derive] / stored[derive]).toFixed(2)
    return {
      rows: [
        row({
          scenario: 'derivatives',
          metric: 'captures/s of 2 MP photos, derivation on (default) vs off',
          unit: 'media/s',
          value: runs['1'],
          baseline: { name: 'MEDIAGATE_DERIVE=0', value: runs['0'] },
          target: { kind: 'ratio-at-least', value: 0.9 },
          note: `the defaults: queued derivations wait while the CPU is contended (MEDIAGATE_DERIVE_YIELD_PRESSURE=30, for at most 30 s), and run one at a time (MEDIAGATE_DERIVE_CONCURRENCY=1) at a lower CPU priority (MEDIAGATE_TOOL_NICE=10); no added latency; ${gateways / 2} gateways each way in the order ${ORDER.slice(0, gateways).map((d) => (d === '1' ? 'on' : 'off')).join(', ')}; gateway CPU per media during capture ${cpuPerMedia('1')} ms on, ${cpuPerMedia('0')} ms off`,
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
    // 2,000 photos per gateway: a capture of 1,000 took about 3 s, and gateways of the same setting differed by up to 12 %.
    const sizes = ctx.quick ? { photos: 20, captures: 200, gateways: 4 } : { photos: 100, captures: 2000, gateways: ORDER.length }
    const thumbs = await thumbnails(ctx, sizes.photos)
    const cost = await captureCost(ctx, sizes.captures, sizes.gateways)
    return {
      scenario: 'derivatives',
      rows: [...thumbs.rows, ...cost.rows],
      details: { sizes, thumbnails: thumbs.details, capture: cost.details },
      notes: ['Photos are the emulator sample (1600×1200 JPEG, ~390 KB), each with different bytes and the same pixels.'],
    }
  },
}
