/**
 * Intake alone, per thread, for figures between bench runs:
 * `node dist-bench/bench/lib/intake-probe.js [count] [--connections N] [--warm N] [--callgrind DIR | --profile DIR] [--env K=V …]`.
 * Starts a gateway child (role `api`, SQLite), warms up, posts `count` signed webhooks (the intake
 * scenario's, every one unique) and prints the gateway's CPU per webhook for each thread. With
 * --callgrind the child runs under `valgrind --tool=callgrind` (one profile per thread, collection
 * zeroed after the warm-up) and the instructions per webhook of each thread are printed: the
 * figure that does not move with the load of a shared machine.
 */
import { execFileSync, fork } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { templates, requestFactory } from '../scenarios/intake.js'
import { benchScript, type FromChild } from './child.js'
import { threadCpuDelta, threadCpuMs } from './cpu.js'
import { API_KEY, APP_SECRET } from './gateway-child.js'
import { WEBHOOK_PATH } from './gateway-client.js'
import { Pool } from 'undici'
import { loopbackUrl } from './loopback.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { connections: { type: 'string', default: '32' }, callgrind: { type: 'string' }, profile: { type: 'string' }, warm: { type: 'string' }, env: { type: 'string', multiple: true } },
})
const count = Number(positionals[0] ?? (values.callgrind ? 400 : 20_000))
const connections = Number(values.connections)
const extraEnv = Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
const workDir = await mkdtemp(path.join(os.tmpdir(), 'mediagate-intake-probe-'))
const cgDir = values.callgrind ? path.resolve(values.callgrind) : undefined
const load = () => os.loadavg()[0]!.toFixed(2)

const log = openSync(path.join(workDir, 'gateway.log'), 'a')
const child = fork(benchScript('lib/gateway-process.js'), [], {
  env: {
    PATH: process.env.PATH ?? '',
    MEDIAGATE_HOST: '127.0.0.1',
    MEDIAGATE_PORT: '0',
    MEDIAGATE_DATA_DIR: path.join(workDir, 'data'),
    META_APP_SECRET: APP_SECRET,
    MEDIAGATE_API_KEY: API_KEY,
    MEDIAGATE_SANDBOX: '0',
    MEDIAGATE_LOG_LEVEL: 'info',
    MEDIAGATE_ROLE: 'api',
    ...extraEnv,
  },
  // Under valgrind: V8 writes and rewrites machine code, hence --smc-check=all.
  ...(cgDir
    ? {
        execPath: 'valgrind',
        execArgv: ['--tool=callgrind', '--separate-threads=yes', '--smc-check=all', '--collect-atstart=yes', `--callgrind-out-file=${cgDir}/callgrind.out.%p`, process.execPath],
      }
    : values.profile
      ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] }
      : {}),
  stdio: ['ignore', log, log, 'ipc'],
  serialization: 'advanced',
})
closeSync(log)
const url = await new Promise<string>((resolve, reject) => {
  child.on('message', (m: FromChild) => (m.type === 'ready' ? resolve(loopbackUrl((m.data as { url: string }).url)) : m.type === 'error' ? reject(new Error(m.message)) : undefined))
  child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${readFileSync(path.join(workDir, 'gateway.log'), 'utf8').slice(-2000)}`)))
})
const pid = child.pid!
try {
  const next = requestFactory(await templates())
  // Not autocannon: under valgrind the gateway is some fifty times slower, past its timeouts.
  const pool = new Pool(url, { connections, headersTimeout: 0, bodyTimeout: 0 })
  const post = async (n: number, lanes: number) => {
    let left = n
    const lane = async () => {
      while (left-- > 0) {
        const { body, headers } = next()
        const r = await pool.request({ method: 'POST', path: WEBHOOK_PATH, body, headers })
        await r.body.dump()
        if (r.statusCode !== 200) throw new Error(`the gateway answered ${r.statusCode}`)
      }
    }
    await Promise.all(Array.from({ length: lanes }, lane))
  }
  // Under valgrind V8 tiers code up slowly: warm up longer for figures of optimized code.
  await post(Number(values.warm ?? (cgDir ? 400 : 5000)), 8)
  if (cgDir) execFileSync('callgrind_control', ['-z', String(pid)])
  const loadBefore = load()
  const before = threadCpuMs(pid)
  const t0 = performance.now()
  await post(count, connections)
  const seconds = (performance.now() - t0) / 1000
  const perThread = [...threadCpuDelta(before, threadCpuMs(pid))].filter(([, t]) => t.ms > 0).sort((a, b) => b[1].ms - a[1].ms)
  const total = perThread.reduce((a, [, t]) => a + t.ms, 0)
  for (const [thread, t] of perThread) process.stdout.write(`  thread ${thread.padEnd(24)} ${((t.ms * 1000) / count).toFixed(1)} µs/webhook (${((t.sysMs * 1000) / count).toFixed(1)} system)\n`)
  process.stdout.write(`gateway: ${count} webhooks, ${(count / seconds).toFixed(0)} req/s, CPU ${((total * 1000) / count).toFixed(1)} µs/webhook; load ${loadBefore} → ${load()}\n`)
  if (cgDir) {
    execFileSync('callgrind_control', ['-d', String(pid)])
    printInstructions(cgDir, pid, count)
  }
  await pool.close()
} finally {
  child.send({ type: 'stop' })
  await new Promise((resolve) => child.once('exit', resolve))
  await rm(workDir, { recursive: true, force: true })
}

/** Instructions per webhook of each thread, from the dump taken after the timed load. */
function printInstructions(dir: string, pid: number, n: number): void {
  const dumps = readdirSync(dir).filter((f) => f.startsWith(`callgrind.out.${pid}.`) && /\.\d+-\d+$/.test(f))
  const last = Math.max(...dumps.map((f) => Number(/\.(\d+)-\d+$/.exec(f)![1])))
  for (const f of dumps.filter((d) => Number(/\.(\d+)-\d+$/.exec(d)![1]) === last).sort()) {
    const text = readFileSync(path.join(dir, f), 'utf8')
    const ir = Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1] ?? 0)
    if (ir === 0) continue
    const kind = text.includes('sqlite3VdbeExec') ? 'SQLite-ish' : ''
    process.stdout.write(`  ${f.padEnd(36)} ${Math.round(ir / n / 1000)}k instructions/webhook ${kind}\n`)
  }
}
