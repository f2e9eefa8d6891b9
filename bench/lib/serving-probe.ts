/**
 * Serving alone, for CPU per request between full bench runs:
 * `node dist-bench/bench/lib/serving-probe.js [requests] [--rounds N] [--whole] [--profile DIR] [--env K=V …]`.
 * Starts the emulator, a gateway child (SQLite + disk) and the static-file baseline on the same
 * blob files, warms both up, then alternates rounds of `requests` GETs (16 connections) at each:
 * the 64 KiB Range of the serving scenario (or the whole 100 KiB image with --whole). Prints each
 * server's CPU per request (schedstat, every thread; main thread apart) per round and the median.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startEmulator } from '../../src/emulator/index.js'
import { startBaseline } from './baseline-child.js'
import type { BenchContext } from './context.js'
import { cpuBetween, sampleCpu } from './cpu.js'
import { ACCESS_TOKEN, API_KEY, APP_SECRET, startGateway } from './gateway-child.js'
import { runGetLoad } from './http-load.js'
import { findBlob, RANGE, storeServedMedia } from '../scenarios/serving.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    profile: { type: 'string' },
    whole: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    env: { type: 'string', multiple: true },
  },
})
const requests = Number(positionals[0] ?? 10_000)
const rounds = Number(values.rounds)
const env = Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
const workDir = await mkdtemp(path.join(os.tmpdir(), 'mediagate-serving-probe-'))
const ctx: BenchContext = { quick: false, workDir, resultsDir: workDir, profileDir: values.profile, log: (m) => process.stderr.write(`${m}\n`) }
const load = () => os.loadavg()[0]!.toFixed(2)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
try {
  const gateway = await startGateway(ctx, { label: 'serving-probe', emulatorUrl: emulator.url, env: { MEDIAGATE_ROLE: 'all', ...env } })
  try {
    const { image, video } = await storeServedMedia(emulator, gateway.url)
    const media = values.whole ? image : video
    const file = await findBlob(gateway.dataDir, media.sha256!)
    const bare = await startBaseline<{ url: string }>(ctx, 'static-file', { BENCH_FILES: JSON.stringify({ '/file': file }) })
    try {
      const servers = [
        { name: 'mediagate', pid: gateway.pid, url: gateway.url, path: `/v1/media/${media.id}/content`, headers: { authorization: `Bearer ${API_KEY}` } as Record<string, string>, total: [] as number[], main: [] as number[] },
        { name: 'bare', pid: bare.pid, url: bare.ready.url, path: '/file', headers: {} as Record<string, string>, total: [] as number[], main: [] as number[] },
      ]
      const status = values.whole ? 200 : 206
      const run = (s: (typeof servers)[number], n: number) =>
        runGetLoad({ url: s.url, path: s.path, headers: values.whole ? s.headers : { ...s.headers, range: RANGE }, connections: 16, durationSeconds: 3600, maxRequests: n, expectStatus: status })
      for (const s of servers) await run(s, Math.min(requests, 5000))
      for (let round = 0; round < rounds; round++) {
        for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
          const before = sampleCpu(s.pid)
          const r = await run(s, requests)
          const cpu = cpuBetween(before, sampleCpu(s.pid))
          if (r.non2xx || r.errors) throw new Error(`${s.name}: ${r.non2xx} unexpected statuses, ${r.errors} errors`)
          s.total.push((cpu.total * 1e6) / requests)
          s.main.push((cpu.main * 1e6) / requests)
          process.stdout.write(`round ${round} ${s.name.padEnd(9)} ${s.total.at(-1)!.toFixed(1)} µs/req (main ${s.main.at(-1)!.toFixed(1)}), ${r.rps.toFixed(0)} req/s; load ${load()}\n`)
        }
      }
      const [gw, b] = servers as [(typeof servers)[0], (typeof servers)[0]]
      process.stdout.write(
        `median: mediagate ${median(gw.total).toFixed(1)} µs/req (main ${median(gw.main).toFixed(1)}), bare ${median(b.total).toFixed(1)} (main ${median(b.main).toFixed(1)}); CPU ratio bare/mediagate ${(median(b.total) / median(gw.total)).toFixed(2)}\n`,
      )
    } finally {
      await bare.stop()
    }
  } finally {
    await gateway.discard()
  }
} finally {
  await emulator.close()
  await rm(workDir, { recursive: true, force: true })
}
