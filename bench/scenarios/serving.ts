/**
 * Scenario 4, serving: GET /v1/media/{id}/content of stored media under load, whole (a
 * 100 KiB image) and one 64 KiB Range of a 10 MiB video (a player seeking), 16 connections in a
 * closed loop (http-load.ts). Baseline: a bare node:http server piping fs.createReadStream of the
 * very same blob files.
 */
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { startBaseline } from '../lib/baseline-child.js'
import { captureAll, recordsOf } from '../lib/capture-run.js'
import type { BenchContext } from '../lib/context.js'
import { ACCESS_TOKEN, API_KEY, APP_SECRET, startGateway } from '../lib/gateway-child.js'
import { GatewayClient } from '../lib/gateway-client.js'
import { runGetLoad } from '../lib/http-load.js'
import { assertClean, type LoadResult } from '../lib/load.js'
import { registerMedia } from '../lib/media-set.js'
import { row } from '../lib/report.js'
import type { Scenario } from '../lib/scenario.js'
import { MiB } from '../lib/stats.js'

/** The 64 KiB Range asked of the 10 MiB video (also by bench/lib/serving-probe.ts). */
export const RANGE = `bytes=${MiB}-${MiB + 64 * 1024 - 1}`

/** The blob file of a sha256 inside a data directory, wherever the disk store puts it. */
export async function findBlob(dir: string, sha256: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const hit = entries.find((e) => e.isFile() && e.name.includes(sha256))
  if (!hit) throw new Error(`no blob file named after ${sha256} under ${dir}`)
  return path.join(hit.parentPath, hit.name)
}

/** The 100 KiB image and the 10 MiB video the scenario serves, captured by the gateway. */
export async function storeServedMedia(emulator: Emulator, gatewayUrl: string): Promise<{ image: MediaJson; video: MediaJson }> {
  const client = new GatewayClient(gatewayUrl, 4)
  try {
    const imageSet = registerMedia(emulator, { count: 1, size: 100 * 1024, mixed: false, mimeType: 'image/jpeg' })
    const videoSet = registerMedia(emulator, { count: 1, size: 10 * MiB, mixed: false, mimeType: 'video/mp4' })
    await captureAll(client, imageSet, 60_000)
    await captureAll(client, videoSet, 60_000)
    const records = await client.listAll()
    const image = recordsOf(records, imageSet)[0]!
    const video = recordsOf(records, videoSet)[0]!
    if (image.status !== 'stored' || video.status !== 'stored') throw new Error('serving: the media to serve were not stored')
    return { image, video }
  } finally {
    await client.close()
  }
}

interface Pair {
  whole: LoadResult
  range: LoadResult
}

async function measure(ctx: BenchContext, name: string, url: string, wholePath: string, rangePath: string, headers: Record<string, string>): Promise<Pair> {
  const seconds = ctx.quick ? 2 : 8
  const base = { url, connections: 16, durationSeconds: seconds, maxRequests: 2_000_000 }
  await runGetLoad({ ...base, path: wholePath, headers, durationSeconds: 1, expectStatus: 200 })
  ctx.log(`  ${name}: whole 100 KiB image, ${seconds} s`)
  const whole = await runGetLoad({ ...base, path: wholePath, headers, expectStatus: 200 })
  assertClean(`${name} whole`, whole)
  ctx.log(`  ${name}: 64 KiB range of a 10 MiB video, ${seconds} s`)
  const range = await runGetLoad({ ...base, path: rangePath, headers: { ...headers, range: RANGE }, expectStatus: 206 })
  assertClean(`${name} range`, range)
  return { whole, range }
}

export const serving: Scenario = {
  name: 'serving',
  title: 'Serving: GET of stored content, whole and Range',
  async run(ctx) {
    const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
    const gateway = await startGateway(ctx, { label: 'serving', emulatorUrl: emulator.url, env: { MEDIAGATE_ROLE: 'all' } })
    let gw: Pair
    let served: { image: MediaJson; video: MediaJson }
    try {
      served = await storeServedMedia(emulator, gateway.url)
      gw = await measure(ctx, 'mediagate', gateway.url, `/v1/media/${served.image.id}/content`, `/v1/media/${served.video.id}/content`, { authorization: `Bearer ${API_KEY}` })
    } finally {
      await gateway.stop()
      await emulator.close()
    }
    const files = { '/image': await findBlob(gateway.dataDir, served.image.sha256!), '/video': await findBlob(gateway.dataDir, served.video.sha256!) }
    const bare = await startBaseline<{ url: string }>(ctx, 'static-file', { BENCH_FILES: JSON.stringify(files) })
    let baseline: Pair
    try {
      baseline = await measure(ctx, 'bare node:http + fs.createReadStream', bare.ready.url, '/image', '/video', {})
    } finally {
      await bare.stop()
    }
    const s = 'serving'
    const b = 'node:http + createReadStream'
    return {
      scenario: s,
      rows: [
        row({ scenario: s, metric: 'GET whole 100 KiB image, 16 connections', unit: 'req/s', value: gw.whole.rps, baseline: { name: b, value: baseline.whole.rps }, target: { kind: 'ratio-at-least', value: 0.8 } }),
        row({ scenario: s, metric: 'GET 64 KiB Range of 10 MiB video, 16 connections', unit: 'req/s', value: gw.range.rps, baseline: { name: b, value: baseline.range.rps }, target: { kind: 'ratio-at-least', value: 0.8 } }),
      ],
      details: { gateway: gw, baseline, files: Object.keys(files) },
      notes: ['Gateway role all, idle worker; API key checked, record read from SQLite, ETag and content headers set on every request.'],
    }
  },
}
