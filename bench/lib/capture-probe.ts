/**
 * Capture alone, for profiling and for CPU-per-media figures between full bench runs:
 * `node dist-bench/bench/lib/capture-probe.js [count] [--warm N] [--profile DIR] [--baseline] [--floor] [--leaves] [--env K=V …]`.
 * Starts the emulator and a gateway child (SQLite + disk), warms up (`--warm` media, default 200, the
 * baseline too; V8 is still compiling the hot code for thousands of media after start), captures `count` 50 KiB
 * media (WhatsApp and Messenger alternating) at no added latency, and prints media/s and the
 * gateway's CPU per media, per thread; with --baseline also the durable parallel client's figures;
 * with --floor also those of the floor client (baselines/floor-capture.ts: the gateway's guarantees
 * in one process, nothing else), sent the same signed webhooks. FLOOR_METER=1 in the probe's
 * environment splits the floor's main-thread CPU by part (it costs a few µs per part measured);
 * FLOOR_COMMIT_MS=N gathers its catalog writes for N ms per commit instead of one event-loop turn;
 * FLOOR_FLAT=1 puts its blobs in one directory, as the baseline does. --leaves makes every leaf
 * directory of the gateway's store before the warm-up (a store in its steady state).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startEmulator } from '../../src/emulator/index.js'
import type { DownloadInput, DownloadOutput } from '../baselines/download-client.js'
import type { FloorInput, FloorOutput } from '../baselines/floor-capture.js'
import { startBaseline } from './baseline-child.js'
import { captureAll } from './capture-run.js'
import { processCpuMs, threadCpuDelta, threadCpuMs } from './cpu.js'
import type { BenchContext } from './context.js'
import { ACCESS_TOKEN, APP_SECRET, startGateway } from './gateway-child.js'
import { GatewayClient } from './gateway-client.js'
import { type MediaSet, registerMedia } from './media-set.js'
import { rate } from './stats.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { profile: { type: 'string' }, warm: { type: 'string', default: '200' }, baseline: { type: 'boolean', default: false }, floor: { type: 'boolean', default: false }, leaves: { type: 'boolean', default: false }, env: { type: 'string', multiple: true } },
})
const count = Number(positionals[0] ?? 2000)
const env = Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
const workDir = await mkdtemp(path.join(os.tmpdir(), 'mediagate-probe-'))
const ctx: BenchContext = { quick: false, workDir, resultsDir: workDir, profileDir: values.profile, log: (m) => process.stderr.write(`${m}\n`) }
const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
const load = () => os.loadavg()[0]!.toFixed(2)
try {
  const gateway = await startGateway(ctx, { label: 'probe', emulatorUrl: emulator.url, env })
  const client = new GatewayClient(gateway.url)
  try {
    // A store in its steady state: every `sha256/ab/cd` leaf there already, as after the first
    // million or so blobs, instead of nearly every blob of a new store making its own.
    if (values.leaves) await makeLeaves(path.join(gateway.dataDir, 'blobs', 'sha256'))
    await captureAll(client, registerMedia(emulator, { count: Number(values.warm), size: 50 * 1024, mixed: true }), 600_000)
    const set = registerMedia(emulator, { count, size: 50 * 1024, mixed: true })
    emulator.resetStats()
    const loadBefore = load()
    const threadsBefore = threadCpuMs(gateway.pid)
    const s = await captureAll(client, set, 600_000, { cpuPid: gateway.pid })
    printThreads(threadsBefore, gateway.pid)
    const downloads = emulator.stats().downloadsCompleted
    process.stdout.write(
      `gateway: ${s.stored}/${count} stored, ${s.mediaPerSecond.toFixed(0)} media/s, CPU ${s.cpuMsPerMedia!.toFixed(2)} ms/media, ${downloads} downloads; load ${loadBefore} → ${load()}\n`,
    )
  } finally {
    await client.close()
    await gateway.discard()
  }
  if (values.baseline) {
    const dir = path.join(workDir, 'durable')
    await mkdir(dir)
    const child = await startBaseline(ctx, 'durable-parallel-capture')
    try {
      const warm = registerMedia(emulator, { count: Number(values.warm), size: 50 * 1024, mixed: true })
      await child.run({ jobs: warm.jobs, token: ACCESS_TOKEN, dir, concurrency: 16, maxMs: 600_000 } satisfies DownloadInput, 660_000)
      const set = registerMedia(emulator, { count, size: 50 * 1024, mixed: true })
      const loadBefore = load()
      const threadsBefore = threadCpuMs(child.pid)
      const out = await child.run<DownloadOutput>({ jobs: set.jobs, token: ACCESS_TOKEN, dir, concurrency: 16, maxMs: 600_000 } satisfies DownloadInput, 660_000)
      printThreads(threadsBefore, child.pid)
      process.stdout.write(`durable parallel: ${rate(out.completed, out.elapsedMs).toFixed(0)} media/s, CPU ${(out.cpuMs / out.completed).toFixed(2)} ms/media; load ${loadBefore} → ${load()}\n`)
    } finally {
      await child.stop()
    }
  }
  if (values.floor) {
    const dir = path.join(workDir, 'floor')
    await mkdir(dir)
    const floorEnv: Record<string, string> = { FLOOR_DIR: dir, FLOOR_GRAPH_URL: `${emulator.url}/${emulator.graphVersion}`, FLOOR_TOKEN: ACCESS_TOKEN, FLOOR_APP_SECRET: APP_SECRET }
    // FLOOR_METER, FLOOR_COMMIT_MS, FLOOR_FLAT (see floor-meter.ts, floor-catalog.ts, floor-capture.ts) pass through.
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('FLOOR_') && v !== undefined && !(k in floorEnv)) floorEnv[k] = v
    const child = await startBaseline<{ url: string }>(ctx, 'floor-capture', floorEnv)
    const client = new GatewayClient(child.ready.url)
    let settled = 0
    // Posts the set's webhooks as to the gateway, and waits until the floor has settled every media.
    const capture = async (set: MediaSet) => {
      await client.postAll(set.webhooks, 16)
      settled += set.media.length
      return child.run<FloorOutput>({ until: settled } satisfies FloorInput, 660_000)
    }
    try {
      const warm = await capture(registerMedia(emulator, { count: Number(values.warm), size: 50 * 1024, mixed: true }))
      const set = registerMedia(emulator, { count, size: 50 * 1024, mixed: true })
      const loadBefore = load()
      const startedAt = Date.now()
      const cpuBefore = processCpuMs(child.pid)
      const threadsBefore = threadCpuMs(child.pid)
      const out = await capture(set)
      const cpuMs = processCpuMs(child.pid) - cpuBefore
      printThreads(threadsBefore, child.pid)
      for (const [name, c] of Object.entries(out.commits)) process.stdout.write(`  sqlite ${name.padEnd(14)} ${c.items} in ${c.commits} transactions, ${(c.items / Math.max(1, c.commits)).toFixed(1)} per transaction\n`)
      if (Object.keys(out.parts).length > 0) process.stdout.write(`  by part, on the clock of ${out.clock}:\n`)
      for (const [name, p] of Object.entries(out.parts)) process.stdout.write(`  ${name.padEnd(28)} ${(p.ms / count).toFixed(3)} ms/media (${p.calls} calls)\n`)
      process.stdout.write(
        `floor: ${out.stored - warm.stored}/${count} stored (${out.failed - warm.failed} failed), ${rate(count, out.lastStoredAt - startedAt).toFixed(0)} media/s, CPU ${(cpuMs / count).toFixed(2)} ms/media; load ${loadBefore} → ${load()}\n`,
      )
    } finally {
      await client.close()
      await child.stop()
    }
  }
} finally {
  await emulator.close()
  await rm(workDir, { recursive: true, force: true })
}

function printThreads(before: ReturnType<typeof threadCpuMs>, pid: number): void {
  const perThread = [...threadCpuDelta(before, threadCpuMs(pid))].filter(([, t]) => t.ms > 0).sort((a, b) => b[1].ms - a[1].ms)
  for (const [thread, t] of perThread) process.stdout.write(`  thread ${thread.padEnd(24)} ${(t.ms / count).toFixed(3)} ms/media (${(t.sysMs / count).toFixed(3)} system), ${(t.syscw / count).toFixed(1)} writes/media\n`)
}

/** Every leaf directory of a disk store's fan-out (65,536 of them). */
async function makeLeaves(root: string): Promise<void> {
  const hex = (i: number) => i.toString(16).padStart(2, '0')
  for (let a = 0; a < 256; a++) await Promise.all(Array.from({ length: 256 }, (_, b) => mkdir(path.join(root, hex(a), hex(b)), { recursive: true })))
}
