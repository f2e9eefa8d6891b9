/**
 * What derivation costs capture, taken apart: `node dist-bench/bench/lib/derive-probe.js [count]
 * [rounds] --variant NAME:K=V,K=V … [--variant …]`. Runs the derivatives scenario's capture (the
 * emulator's 2 MP photos, no added latency) on one gateway per variant and round, the variants
 * in a different order each round (a drift in the machine's load falls on all alike), and prints
 * each variant's media/s over all its rounds, each round's figure, and the gateway's CPU during
 * the capture by thread name (libvips's pool apart from the rest), per media.
 * CPU is read from /proc/<pid>/task/<tid>/schedstat (nanoseconds on the CPU), so Linux only.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sampleJpeg } from '../../src/emulator/sample-media.js'
import { startEmulator } from '../../src/emulator/index.js'
import { readStallTotalUs } from '../../src/jobs/cpu-pressure.js'
import { captureAll } from './capture-run.js'
import { threadCpuNs } from './cpu.js'
import type { BenchContext } from './context.js'
import { ACCESS_TOKEN, APP_SECRET, startGateway } from './gateway-child.js'
import { GatewayClient } from './gateway-client.js'
import { registerMedia } from './media-set.js'
import { rate } from './stats.js'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { variant: { type: 'string', multiple: true } } })
const count = Number(positionals[0] ?? 2000)
const rounds = Number(positionals[1] ?? 3)
const variants = (values.variant ?? ['off:MEDIAGATE_DERIVE=0', 'on:MEDIAGATE_DERIVE=1']).map((spec) => {
  const [name, env = ''] = spec.split(/:(.*)/s) as [string, string?]
  return { name, env: Object.fromEntries(env.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) }
})

/** Nanoseconds on the CPU by thread name, the main thread apart (libuv's and V8's threads are all `node`). */
function byThreadName(pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const [key, ns] of threadCpuNs(pid)) {
    const [tid, ...name] = key.split(' ')
    const label = Number(tid) === pid ? 'main' : name.join(' ')
    out.set(label, (out.get(label) ?? 0) + ns)
  }
  return out
}

/** The machine's idle and total CPU time so far (os.cpus(), every core). */
function machineIdle(): { idle: number; total: number } {
  let idle = 0
  let total = 0
  for (const { times } of os.cpus()) {
    idle += times.idle
    total += times.user + times.nice + times.sys + times.idle + times.irq
  }
  return { idle, total }
}

/** Microseconds some runnable task on the machine has waited for a CPU (Linux PSI), 0 where unknown. */
const cpuPressureUs = () => readStallTotalUs() ?? 0

const workDir = await mkdtemp(path.join(os.tmpdir(), 'mediagate-derive-probe-'))
const ctx: BenchContext = { quick: false, workDir, resultsDir: workDir, profileDir: undefined, log: (m) => process.stderr.write(`${m}\n`) }
const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
const totals = new Map(variants.map((v) => [v.name, { stored: 0, ms: 0, runs: [] as number[], cpu: new Map<string, number>() }]))
let seed = 0
try {
  for (let round = 0; round < rounds; round++) {
    // Rotated each round: every variant runs first, in the middle and last in turn.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!)
    for (const variant of order) {
      const gateway = await startGateway(ctx, { label: `${variant.name}-${round}`, emulatorUrl: emulator.url, env: variant.env })
      const client = new GatewayClient(gateway.url)
      try {
        await captureAll(client, registerMedia(emulator, { count: 20, size: 0, mixed: true, bytes: () => sampleJpeg(seed++) }), 60_000)
        const set = registerMedia(emulator, { count, size: 0, mixed: true, bytes: () => sampleJpeg(seed++) })
        const before = byThreadName(gateway.pid)
        const idle0 = machineIdle()
        const psi0 = cpuPressureUs()
        const stats = await captureAll(client, set, 300_000)
        const idle1 = machineIdle()
        const psi1 = cpuPressureUs()
        const after = byThreadName(gateway.pid)
        if (stats.failed) throw new Error(`${stats.failed} captures failed: ${JSON.stringify(stats.failures)}`)
        const t = totals.get(variant.name)!
        t.stored += stats.stored
        t.ms += stats.elapsedMs
        t.runs.push(stats.mediaPerSecond)
        for (const [name, ns] of after) t.cpu.set(name, (t.cpu.get(name) ?? 0) + ns - (before.get(name) ?? 0))
        process.stderr.write(`  round ${round} ${variant.name}: ${stats.mediaPerSecond.toFixed(1)} media/s, CPU pressure ${((psi1 - psi0) / 10 / stats.elapsedMs).toFixed(1)} %, machine idle ${((100 * (idle1.idle - idle0.idle)) / (idle1.total - idle0.total)).toFixed(1)} %, load ${os.loadavg()[0]!.toFixed(2)}\n`)
      } finally {
        await client.close()
        await gateway.discard()
      }
    }
  }
  const base = totals.get(variants[0]!.name)!
  for (const v of variants) {
    const t = totals.get(v.name)!
    const r = rate(t.stored, t.ms)
    process.stdout.write(`${v.name.padEnd(12)} ${r.toFixed(1).padStart(7)} media/s  ${(r / rate(base.stored, base.ms)).toFixed(3)} ×  runs ${t.runs.map((x) => x.toFixed(0)).join(' ')}\n`)
    const cpu = [...t.cpu].filter(([, ns]) => ns / t.stored > 1e4).sort((a, b) => b[1] - a[1])
    process.stdout.write(`             CPU ms/media: ${cpu.map(([name, ns]) => `${name} ${(ns / 1e6 / t.stored).toFixed(3)}`).join(', ')}; total ${([...t.cpu.values()].reduce((a, b) => a + b, 0) / 1e6 / t.stored).toFixed(3)}\n`)
  }
} finally {
  await emulator.close()
  await rm(workDir, { recursive: true, force: true })
}
