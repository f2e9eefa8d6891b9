/**
 * Intake's latency at 1,000 req/s on the designs' floors, alternated, for figures between bench
 * runs: `node dist-bench/bench/lib/intake-p99-probe.js [--rounds N] [--burst] [--rest MS] design…`,
 * a design being `durable` (baselines/durable-http.ts) or an intake floor's mode
 * (baselines/floor-intake.ts: records, narrow, bulk, log, logthread, parse). Each round starts
 * each design in a fresh child, optionally runs the intake scenario's maximum-throughput burst
 * (--burst: 1 s at 8 connections, 10 s at 32) and a rest (--rest), then 3 s at the fixed rate
 * and 10 s measured, as the scenario does, and prints p50, p99 and the maximum.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { requestFactory, templates } from '../scenarios/intake.js'
import { benchScript, startChild } from './child.js'
import { APP_SECRET } from './gateway-child.js'
import { WEBHOOK_PATH } from './gateway-client.js'
import { runLoad } from './load.js'
import { runPacedLoad } from './paced-load.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' }, burst: { type: 'boolean', default: false }, rest: { type: 'string', default: '0' } },
})
const designs = positionals.length > 0 ? positionals : ['durable', 'log', 'logthread']
const rounds = Number(values.rounds)
const restMs = Number(values.rest)
const workDir = await mkdtemp(path.join(os.tmpdir(), 'mediagate-intake-p99-probe-'))
const next = requestFactory(await templates())
const ms = (n: number) => n.toFixed(2).padStart(6)
let started = 0
try {
  console.log(`load average ${os.loadavg()[0]!.toFixed(2)}; ${rounds} rounds${values.burst ? ', after the maximum-throughput burst' : ''}${restMs ? ` and ${restMs} ms of rest` : ''}`)
  for (let round = 1; round <= rounds; round++) {
    for (const design of designs) {
      started++
      const durable = design === 'durable'
      const child = await startChild<{ url: string }>(benchScript(durable ? 'baselines/durable-http.js' : 'baselines/floor-intake.js'), {
        name: design,
        logFile: path.join(workDir, `${started}-${design}.log`),
        execArgv: [],
        env: durable ? { DURABLE_DIR: workDir } : { FLOOR_DB: path.join(workDir, `${started}-${design}.db`), FLOOR_APP_SECRET: APP_SECRET, FLOOR_INTAKE: design },
      })
      try {
        const base = { url: child.ready.url, method: 'POST' as const, path: WEBHOOK_PATH, nextRequest: next }
        let burst = ''
        if (values.burst) {
          await runLoad({ ...base, connections: 8, durationSeconds: 1, maxRequests: 50_000 })
          burst = ` after ${Math.round((await runLoad({ ...base, connections: 32, durationSeconds: 10, maxRequests: 1_000_000 })).rps)} req/s`
        }
        await sleep(restMs)
        const paced = { ...base, rate: 1000, connections: 32 }
        await runPacedLoad({ ...paced, durationSeconds: 3 })
        const { latencyMs: l, non2xx, errors } = await runPacedLoad({ ...paced, durationSeconds: 10 })
        console.log(`round ${round}  ${design.padEnd(10)} p50 ${ms(l.p50)}  p99 ${ms(l.p99)}  max ${ms(l.max)} ms${non2xx + errors > 0 ? `  (${non2xx} non-2xx, ${errors} errors)` : ''}${burst}`)
      } finally {
        await child.stop()
      }
    }
  }
} finally {
  await rm(workDir, { recursive: true, force: true })
}
