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
import { inAlternatedRounds } from '../lib/timing.js'
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

/** Where one side of the comparison serves the two media. */
interface Side {
  name: string
  url: string
  wholePath: string
  rangePath: string
  headers: Record<string, string>
}

/** One side's requests per second over its rounds: all its 2xx requests over all its seconds. */
interface Served {
  rps: number
  rounds: LoadResult[]
}

function served(rounds: LoadResult[]): Served {
  const requests = rounds.reduce((n, r) => n + r.requests, 0)
  const seconds = rounds.reduce((n, r) => n + r.durationSeconds, 0)
  return { rps: requests / seconds, rounds }
}

/**
 * Both servers are up at once and loaded in turn, in alternated rounds per kind of request
 * (gateway first in even rounds, bare first in odd ones), so a change in what the machine's other
 * vCPU is doing falls on both sides instead of on whichever ran second: measured one after the
 * other, 8 s each, the whole-image ratio of the same build read 0.71–1.07 × within an hour.
 */
async function measure(ctx: BenchContext, sides: readonly [Side, Side]): Promise<Record<string, { whole: Served; range: Served }>> {
  const rounds = ctx.quick ? 2 : 4
  const seconds = ctx.quick ? 1 : 2
  const base = { connections: 16, durationSeconds: seconds, maxRequests: 2_000_000 }
  for (const side of sides) await runGetLoad({ ...base, url: side.url, path: side.wholePath, headers: side.headers, durationSeconds: 1, expectStatus: 200 })
  const results = new Map(sides.map((side) => [side, { whole: [] as LoadResult[], range: [] as LoadResult[] }]))
  for (const kind of ['whole', 'range'] as const) {
    ctx.log(`  ${kind === 'whole' ? 'whole 100 KiB image' : '64 KiB range of a 10 MiB video'}: ${rounds} alternated rounds of ${seconds} s per side`)
    await inAlternatedRounds(rounds, sides, async (side) => {
      const result =
        kind === 'whole'
          ? await runGetLoad({ ...base, url: side.url, path: side.wholePath, headers: side.headers, expectStatus: 200 })
          : await runGetLoad({ ...base, url: side.url, path: side.rangePath, headers: { ...side.headers, range: RANGE }, expectStatus: 206 })
      assertClean(`${side.name} ${kind}`, result)
      results.get(side)![kind].push(result)
    })
  }
  return Object.fromEntries(sides.map((side) => [side.name, { whole: served(results.get(side)!.whole), range: served(results.get(side)!.range) }]))
}

export const serving: Scenario = {
  name: 'serving',
  title: 'Serving: GET of stored content, whole and Range',
  async run(ctx) {
    const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
    const gateway = await startGateway(ctx, { label: 'serving', emulatorUrl: emulator.url, env: { MEDIAGATE_ROLE: 'all' } })
    let measured: Awaited<ReturnType<typeof measure>>
    let files: Record<string, string>
    try {
      const media = await storeServedMedia(emulator, gateway.url)
      files = { '/image': await findBlob(gateway.dataDir, media.image.sha256!), '/video': await findBlob(gateway.dataDir, media.video.sha256!) }
      const bare = await startBaseline<{ url: string }>(ctx, 'static-file', { BENCH_FILES: JSON.stringify(files) })
      try {
        measured = await measure(ctx, [
          { name: 'gateway', url: gateway.url, wholePath: `/v1/media/${media.image.id}/content`, rangePath: `/v1/media/${media.video.id}/content`, headers: { authorization: `Bearer ${API_KEY}` } },
          { name: 'baseline', url: bare.ready.url, wholePath: '/image', rangePath: '/video', headers: {} },
        ])
      } finally {
        await bare.stop()
      }
    } finally {
      await gateway.stop()
      await emulator.close()
    }
    const gw = measured.gateway!
    const baseline = measured.baseline!
    const s = 'serving'
    const b = 'node:http + createReadStream'
    return {
      scenario: s,
      rows: [
        row({ scenario: s, metric: 'GET whole 100 KiB image, 16 connections', unit: 'req/s', value: gw.whole.rps, baseline: { name: b, value: baseline.whole.rps }, target: { kind: 'ratio-at-least', value: 0.8 } }),
        row({ scenario: s, metric: 'GET 64 KiB Range of 10 MiB video, 16 connections', unit: 'req/s', value: gw.range.rps, baseline: { name: b, value: baseline.range.rps }, target: { kind: 'ratio-at-least', value: 0.8 } }),
      ],
      details: { gateway: gw, baseline, files: Object.keys(files) },
      notes: ['Gateway role all, idle worker; API key checked, record read from SQLite, ETag and content headers set on every request. Both servers up at once, loaded in alternated rounds.'],
    }
  },
}
