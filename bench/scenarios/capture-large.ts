/**
 * Scenario 3, large files: 4 videos of 100 MiB captured at once, against `curl -o` of the same
 * URLs and against 4 durable streaming downloads (written, fsynced, renamed, directory fsynced,
 * as a blob is stored); and the gateway's peak RSS growth while capturing one file of 10, 100 and 500 MiB (a fresh
 * gateway process each, peak read from the kernel's VmHWM), which must not grow with the size.
 */
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { curlAll } from '../baselines/curl-download.js'
import type { DownloadInput, DownloadOutput } from '../baselines/download-client.js'
import { startBaseline } from '../lib/baseline-child.js'
import { captureAll, type CaptureStats } from '../lib/capture-run.js'
import type { BenchContext } from '../lib/context.js'
import { ACCESS_TOKEN, APP_SECRET, type GatewayChild, startGateway } from '../lib/gateway-child.js'
import { GatewayClient } from '../lib/gateway-client.js'
import { type MediaSet, registerMedia } from '../lib/media-set.js'
import { type Row, row } from '../lib/report.js'
import { readMemory, resetPeak, RssSampler } from '../lib/rss.js'
import type { Scenario } from '../lib/scenario.js'
import { MiB, rate } from '../lib/stats.js'
import { sleep } from '../lib/timing.js'

const MAX_BYTES = String(1024 * MiB)

interface MemoryRun {
  sizeMiB: number
  files: number
  idleRss: number
  peakRss: number
  growthMiB: number
  peakFrom: 'VmHWM' | 'sampled VmRSS'
  capture: CaptureStats
}

/** The lowest RSS over 200 ms of rest: growth measured from it errs on the gateway's side of the target. */
async function idleLevel(pid: number): Promise<number> {
  let low = Number.POSITIVE_INFINITY
  for (let i = 0; i < 5; i++) {
    low = Math.min(low, readMemory(pid).rss)
    await sleep(40)
  }
  return low
}

/** Captures `files` × `sizeMiB` in a fresh gateway and measures its RSS growth over the idle level. */
async function captureMeasured(ctx: BenchContext, emulator: Emulator, files: number, sizeMiB: number): Promise<MemoryRun> {
  const gateway: GatewayChild = await startGateway(ctx, { label: `large-${files}x${sizeMiB}`, emulatorUrl: emulator.url, env: { MEDIAGATE_MAX_BYTES: MAX_BYTES } })
  const client = new GatewayClient(gateway.url, 8)
  try {
    // Warm-up with small media so code and connections are loaded before the idle level is read.
    await captureAll(client, registerMedia(emulator, { count: 8, size: 256 * 1024, mixed: false, mimeType: 'video/mp4' }), 60_000)
    const set = registerMedia(emulator, { count: files, size: sizeMiB * MiB, mixed: false, mimeType: 'video/mp4' })
    const idleRss = await idleLevel(gateway.pid)
    const reset = resetPeak(gateway.pid)
    const sampler = new RssSampler(gateway.pid)
    ctx.log(`  mediagate: ${files} × ${sizeMiB} MiB`)
    const capture = await captureAll(client, set, 600_000)
    const sampled = sampler.stop()
    const peakRss = reset ? Math.max(readMemory(gateway.pid).hwm, sampled) : sampled
    return { sizeMiB, files, idleRss, peakRss, growthMiB: (peakRss - idleRss) / MiB, peakFrom: reset ? 'VmHWM' : 'sampled VmRSS', capture }
  } finally {
    await client.close()
    await gateway.discard()
  }
}

/** The durable streaming baseline (durable-parallel-capture.ts), one lane per file. */
async function durableStreams(ctx: BenchContext, set: MediaSet, warm: MediaSet): Promise<DownloadOutput> {
  const dir = path.join(ctx.workDir, 'durable-streams')
  await mkdir(dir, { recursive: true })
  const child = await startBaseline(ctx, 'durable-parallel-capture')
  try {
    await child.run({ jobs: warm.jobs, token: ACCESS_TOKEN, dir, concurrency: warm.jobs.length, maxMs: 60_000 } satisfies DownloadInput, 120_000)
    ctx.log(`  baseline durable streams: ${set.jobs.length} × ${Math.round(set.totalBytes / set.jobs.length / MiB)} MiB`)
    return await child.run<DownloadOutput>({ jobs: set.jobs, token: ACCESS_TOKEN, dir, concurrency: set.jobs.length, maxMs: 600_000 } satisfies DownloadInput, 720_000)
  } finally {
    await child.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

export const captureLarge: Scenario = {
  name: 'capture-large',
  title: 'Capture, large files: throughput and bounded memory',
  async run(ctx) {
    const files = 4
    const bigMiB = ctx.quick ? 16 : 100
    const memorySizes = ctx.quick ? [8, 64] : [10, 100, 500]
    const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
    const s = 'capture-large'
    try {
      ctx.log(` ${files} × ${bigMiB} MiB at once`)
      const together = await captureMeasured(ctx, emulator, files, bigMiB)
      const curlSet = registerMedia(emulator, { count: files, size: bigMiB * MiB, mixed: false, mimeType: 'video/mp4' })
      const dir = path.join(ctx.workDir, 'curl')
      await mkdir(dir, { recursive: true })
      ctx.log(`  baseline curl -o: ${files} × ${bigMiB} MiB`)
      const curl = await curlAll(curlSet.media.map((m) => emulator.whatsappUrl(m.id)), dir, ACCESS_TOKEN, 600_000)
      const curlRate = rate(files * bigMiB, curl.elapsedMs)
      const curlDurableRate = rate(files * bigMiB, curl.elapsedWithFsyncMs)
      await rm(dir, { recursive: true, force: true })
      const durableSet = registerMedia(emulator, { count: files, size: bigMiB * MiB, mixed: false, mimeType: 'video/mp4' })
      const durableWarm = registerMedia(emulator, { count: 8, size: 256 * 1024, mixed: false, mimeType: 'video/mp4' })
      const durable = await durableStreams(ctx, durableSet, durableWarm)
      const durableRate = rate(durable.bytes / MiB, durable.elapsedMs)

      const memory: MemoryRun[] = []
      for (const size of memorySizes) {
        ctx.log(` peak RSS while capturing 1 × ${size} MiB`)
        memory.push(await captureMeasured(ctx, emulator, 1, size))
      }
      const rows: Row[] = [
        row({
          scenario: s,
          metric: `MiB/s, ${files} × ${bigMiB} MiB at once`,
          unit: 'MiB/s',
          value: together.capture.bytesPerSecond / MiB,
          baseline: { name: 'curl -o, no fsync', value: curlRate },
          // Issue 19 moved the target to the durable streaming baseline below: curl -o leaves its
          // bytes in the page cache, which no store that promises durability may do.
          note: 'informational: the durable streams row holds the target',
          ...(together.capture.failed ? { note: `${together.capture.failed} failed: ${JSON.stringify(together.capture.failures)}` } : {}),
        }),
        row({
          scenario: s,
          metric: `MiB/s, ${files} × ${bigMiB} MiB at once, vs a durable copy`,
          unit: 'MiB/s',
          value: together.capture.bytesPerSecond / MiB,
          baseline: { name: 'curl -o, then fsync', value: curlDurableRate },
          note: 'informational: the gateway fsyncs every blob before `stored`; curl -o alone leaves the bytes in the page cache',
        }),
        row({
          scenario: s,
          metric: `MiB/s, ${files} × ${bigMiB} MiB at once, vs durable streams`,
          unit: 'MiB/s',
          value: together.capture.bytesPerSecond / MiB,
          baseline: { name: `durable streaming, ${files} lanes`, value: durableRate },
          target: { kind: 'ratio-at-least', value: 0.8 },
          note: `baseline: Graph lookup, stream to a temp file, fsync, rename, fsync the directory; ${Math.round(durable.cpuMs)} ms of CPU`,
        }),
        row({
          scenario: s,
          metric: `peak RSS growth, ${files} × ${bigMiB} MiB at once`,
          unit: 'MiB',
          value: together.growthMiB,
          target: { kind: 'at-most', value: 64 },
          note: `idle ${Math.round(together.idleRss / MiB)} MiB, peak ${Math.round(together.peakRss / MiB)} MiB (${together.peakFrom})`,
        }),
        ...memory.map((m) =>
          row({
            scenario: s,
            metric: `peak RSS growth, 1 × ${m.sizeMiB} MiB`,
            unit: 'MiB',
            value: m.growthMiB,
            target: { kind: 'at-most', value: 64 },
            note: `idle ${Math.round(m.idleRss / MiB)} MiB, peak ${Math.round(m.peakRss / MiB)} MiB (${m.peakFrom})${m.capture.failed ? `; ${JSON.stringify(m.capture.failures)}` : ''}`,
          }),
        ),
      ]
      return {
        scenario: s,
        rows,
        details: { together, curl: { ...curl, mibPerSecond: curlRate, durableMibPerSecond: curlDurableRate }, durableStreams: { ...durable, mibPerSecond: durableRate }, memory },
        notes: [
          'WhatsApp media (Graph lookup, then download with the Bearer token); the gateway hashes, verifies sha256 and size, and fsyncs each blob; curl only writes.',
          'RSS growth = peak (kernel VmHWM reset just before the run, and VmRSS sampled every 20 ms) minus the lowest RSS of the warmed-up idle gateway over 200 ms.',
        ],
      }
    } finally {
      await emulator.close()
    }
  },
}
