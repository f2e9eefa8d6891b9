/**
 * Capture alone, for profiling and for CPU-per-media figures between full bench runs:
 * `node dist-bench/bench/lib/capture-probe.js [count] [--warm N] [--profile DIR] [--baseline] [--env K=V …]`.
 * Starts the emulator and a gateway child (SQLite + disk), warms up (`--warm` media, default 200, the
 * baseline too; V8 is still compiling the hot code for thousands of media after start), captures `count` 50 KiB
 * media (WhatsApp and Messenger alternating) at no added latency, and prints media/s and the
 * gateway's CPU per media, per thread; with --baseline also the durable parallel client's figures.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startEmulator } from '../../src/emulator/index.js'
import type { DownloadInput, DownloadOutput } from '../baselines/download-client.js'
import { startBaseline } from './baseline-child.js'
import { captureAll } from './capture-run.js'
import { threadCpuDelta, threadCpuMs } from './cpu.js'
import type { BenchContext } from './context.js'
import { ACCESS_TOKEN, APP_SECRET, startGateway } from './gateway-child.js'
import { GatewayClient } from './gateway-client.js'
import { registerMedia } from './media-set.js'
import { rate } from './stats.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { profile: { type: 'string' }, warm: { type: 'string', default: '200' }, baseline: { type: 'boolean', default: false }, env: { type: 'string', multiple: true } },
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
    await captureAll(client, registerMedia(emulator, { count: Number(values.warm), size: 50 * 1024, mixed: true }), 600_000)
    const set = registerMedia(emulator, { count, size: 50 * 1024, mixed: true })
    emulator.resetStats()
    const loadBefore = load()
    const threadsBefore = threadCpuMs(gateway.pid)
    const s = await captureAll(client, set, 600_000, { cpuPid: gateway.pid })
    const perThread = [...threadCpuDelta(threadsBefore, threadCpuMs(gateway.pid))].filter(([, t]) => t.ms > 0).sort((a, b) => b[1].ms - a[1].ms)
    for (const [thread, t] of perThread) process.stdout.write(`  thread ${thread.padEnd(24)} ${(t.ms / count).toFixed(3)} ms/media (${(t.sysMs / count).toFixed(3)} system), ${(t.syscw / count).toFixed(1)} writes/media\n`)
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
      const out = await child.run<DownloadOutput>({ jobs: set.jobs, token: ACCESS_TOKEN, dir, concurrency: 16, maxMs: 600_000 } satisfies DownloadInput, 660_000)
      process.stdout.write(`durable parallel: ${rate(out.completed, out.elapsedMs).toFixed(0)} media/s, CPU ${(out.cpuMs / out.completed).toFixed(2)} ms/media; load ${loadBefore} → ${load()}\n`)
    } finally {
      await child.stop()
    }
  }
} finally {
  await emulator.close()
  await rm(workDir, { recursive: true, force: true })
}
