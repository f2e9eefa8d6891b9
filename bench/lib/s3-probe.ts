/**
 * The CPU accounting of capture on PostgreSQL + S3 against bare PUTs, per media, by process and
 * thread: `node dist-bench/bench/lib/s3-probe.js [count] [--bare] [--profile DIR] [--env K=V …]`.
 * Runs the capture-s3 scenario's gateway run (emulator in this process, a gateway child on a
 * fresh PostgreSQL schema and bucket of the S3 test server), then with --bare the bare SDK
 * client's PUTs at 16 in flight (with --download a bare lookup-and-download client too), and prints for each: the gateway's threads, the PostgreSQL
 * backends serving the gateway's connections (matched by their client port) and PostgreSQL's
 * other processes, the Swift processes, this process (emulator, webhook sender, polling) and the
 * bare client. On two shared cores the ratio is bound by the sum of these per media.
 * CPU is read from /proc/<pid>/task/<tid>/schedstat (nanoseconds on the CPU), so Linux only.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createS3Client } from '../../src/blobs/s3-client.js'
import { startEmulator } from '../../src/emulator/index.js'
import { createTestSchema } from '../../test/helpers/postgres.js'
import { S3_ENDPOINT } from '../../test/helpers/services.js'
import type { DownloadInput, DownloadOutput } from '../baselines/download-client.js'
import type { S3PutInput, S3PutOutput } from '../baselines/s3-put.js'
import { startBaseline } from './baseline-child.js'
import { threadCpuNs } from './cpu.js'
import { captureAll } from './capture-run.js'
import type { BenchContext } from './context.js'
import { ACCESS_TOKEN, APP_SECRET, startGateway } from './gateway-child.js'
import { GatewayClient } from './gateway-client.js'
import { registerMedia } from './media-set.js'
import { createBenchBucket, S3_CREDENTIALS, S3_REGION, s3GatewayEnv } from './s3-bench-bucket.js'
import { rate } from './stats.js'

const SIZE = 50 * 1024

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { profile: { type: 'string' }, bare: { type: 'boolean', default: false }, download: { type: 'boolean', default: false }, env: { type: 'string', multiple: true } },
})
const count = Number(positionals[0] ?? 2000)
const extraEnv = Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}
const cmdline = (pid: number) => read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ').trim()
const pids = () => readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number)

const processNs = (pid: number) => [...threadCpuNs(pid).values()].reduce((a, b) => a + b, 0)
/** Kernel-side CPU of a process, ms, from /proc/<pid>/stat (clock ticks, 10 ms). */
const systemMs = (pid: number) => (Number(read(`/proc/${pid}/stat`).split(') ')[1]?.split(' ')[12] ?? 0) * 1000) / 100

/** The local ports of `pid`'s TCP connections to port 5432: its PostgreSQL sessions. */
function postgresClientPorts(pid: number): Set<number> {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of read(table).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10 || !inodes.has(f[9]!)) continue
      if (parseInt(f[2]!.split(':')[1]!, 16) === 5432) ports.add(parseInt(f[1]!.split(':')[1]!, 16))
    }
  }
  return ports
}

/** Processes whose command line matches, summed over those alive at both samples. */
function sampleGroup(match: (pid: number, cmd: string) => boolean): Map<number, number> {
  const out = new Map<number, number>()
  for (const pid of pids()) {
    const cmd = cmdline(pid)
    if (cmd && match(pid, cmd)) out.set(pid, processNs(pid))
  }
  return out
}
function groupDeltaMs(before: Map<number, number>, after: Map<number, number>): number {
  let ns = 0
  for (const [pid, v] of after) ns += v - (before.get(pid) ?? v)
  return ns / 1e6
}

const isSwift = (_: number, cmd: string) => /swift-(proxy|object|container|account)-server/.test(cmd)
const isPostgres = (_: number, cmd: string) => /^postgres(:|\s)|\/postgres\s/.test(cmd)
const backendPort = (cmd: string) => Number(/127\.0\.0\.1\((\d+)\)/.exec(cmd)?.[1] ?? Number.NaN)

interface Snapshot {
  swift: Map<number, number>
  postgres: Map<number, number>
  postgresSys: Map<number, number>
  self: number
  selfThreads: Map<string, number>
}
function snapshot(): Snapshot {
  const u = process.cpuUsage()
  const postgres = sampleGroup(isPostgres)
  return { swift: sampleGroup(isSwift), postgres, postgresSys: new Map([...postgres.keys()].map((pid) => [pid, systemMs(pid)])), self: (u.user + u.system) / 1000, selfThreads: threadCpuNs(process.pid) }
}

const per = (ms: number) => (ms / count).toFixed(3)
const line = (label: string, ms: number) => process.stdout.write(`  ${label.padEnd(40)} ${per(ms)} ms/media\n`)
const load = () => os.loadavg()[0]!.toFixed(2)

/** Prints the accounting between two snapshots; `ours` picks the PostgreSQL backends counted as the gateway's. */
function report(title: string, a: Snapshot, b: Snapshot, ours: (pid: number) => boolean, extra: [string, number][]): number {
  process.stdout.write(`${title}\n`)
  let total = 0
  for (const [label, ms] of extra) {
    line(label, ms)
    total += ms
  }
  const pgOurs = new Map([...b.postgres].filter(([pid]) => ours(pid)))
  const pgOther = new Map([...b.postgres].filter(([pid]) => !ours(pid)))
  const swift = groupDeltaMs(a.swift, b.swift)
  const pgMs = groupDeltaMs(a.postgres, pgOurs)
  const pgOtherMs = groupDeltaMs(a.postgres, pgOther)
  const selfMs = b.self - a.self
  let pgSys = 0
  for (const pid of pgOurs.keys()) pgSys += (b.postgresSys.get(pid) ?? 0) - (a.postgresSys.get(pid) ?? b.postgresSys.get(pid) ?? 0)
  line(`PostgreSQL backends of the gateway (${pgOurs.size})`, pgMs)
  line('  of which in the kernel', pgSys)
  line('PostgreSQL other processes', pgOtherMs)
  line('Swift (all processes)', swift)
  line('bench process (emulator, sender, poll)', selfMs)
  total += pgMs + pgOtherMs + swift + selfMs
  line('TOTAL', total)
  for (const [k, v] of b.selfThreads) {
    const d = (v - (a.selfThreads.get(k) ?? 0)) / 1e6
    if (d / count > 0.01) line(`  bench thread ${k}`, d)
  }
  return total
}

const workDir = await mkdtemp(path.join(os.tmpdir(), 'mediagate-s3-probe-'))
const ctx: BenchContext = { quick: false, workDir, resultsDir: workDir, profileDir: values.profile, log: (m) => process.stderr.write(`${m}\n`) }
const s3 = createS3Client({ endpoint: S3_ENDPOINT, region: S3_REGION, forcePathStyle: true, credentials: S3_CREDENTIALS })
const benchBucket = await createBenchBucket(s3, 'mg-probe')
const bucket = benchBucket.name
const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, latencyMs: 0 })
const schema = await createTestSchema('mg_probe')
const countFile = path.join(workDir, 'pg-statements.json')
/** The statements the gateway's threads have sent so far (pg-statement-counter.ts). */
const statements = (): { total: number; counts: Record<string, number> } => {
  const sum = { total: 0, counts: {} as Record<string, number> }
  for (const f of readdirSync(workDir).filter((f) => f.startsWith('pg-statements.json.'))) {
    const one = JSON.parse(read(path.join(workDir, f)) || '{"total":0,"counts":{}}') as typeof sum
    sum.total += one.total
    for (const [k, n] of Object.entries(one.counts)) sum.counts[k] = (sum.counts[k] ?? 0) + n
  }
  return sum
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 1200))
try {
  const gateway = await startGateway(ctx, {
    label: 's3-probe',
    emulatorUrl: emulator.url,
    env: {
      ...s3GatewayEnv(bucket, schema.url),
      NODE_OPTIONS: `--import=${path.join(import.meta.dirname, 'pg-statement-counter.js')}`,
      MEDIAGATE_PG_COUNT_FILE: countFile,
      ...extraEnv,
    },
  })
  const client = new GatewayClient(gateway.url)
  try {
    await captureAll(client, registerMedia(emulator, { count: 200, size: SIZE, mixed: true }), 60_000)
    const set = registerMedia(emulator, { count, size: SIZE, mixed: true })
    emulator.resetStats()
    const loadBefore = load()
    const portsBefore = postgresClientPorts(gateway.pid)
    await settle()
    const st0 = statements()
    const gw0 = threadCpuNs(gateway.pid)
    const a = snapshot()
    const s = await captureAll(client, set, 600_000)
    const b = snapshot()
    const gw1 = threadCpuNs(gateway.pid)
    await settle()
    const st1 = statements()
    const ports = new Set([...portsBefore, ...postgresClientPorts(gateway.pid)])
    const gwThreads = [...gw1].map(([k, v]) => [k, (v - (gw0.get(k) ?? 0)) / 1e6] as [string, number]).filter(([, ms]) => ms > 0)
    gwThreads.sort((x, y) => y[1] - x[1])
    const gwTotal = gwThreads.reduce((t, [, ms]) => t + ms, 0)
    process.stdout.write(`gateway: ${s.stored}/${count} stored, ${s.mediaPerSecond.toFixed(0)} media/s, ${emulator.stats().downloadsCompleted} downloads; load ${loadBefore} → ${load()}\n`)
    for (const [k, ms] of gwThreads) if (ms / count >= 0.005) line(`  gateway thread ${k}`, ms)
    report('gateway run, CPU per media:', a, b, (pid) => ports.has(backendPort(cmdline(pid))), [['gateway (all threads)', gwTotal]])
    // Counted in the gateway up to half a second after settling: the polling's reads are in it.
    process.stdout.write(`  PostgreSQL statements: ${((st1.total - st0.total) / count).toFixed(2)} per media (`)
    const kinds = Object.entries(st1.counts).map(([k, n]) => [k, n - (st0.counts[k] ?? 0)] as const).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1])
    process.stdout.write(`${kinds.map(([k, n]) => `${k}: ${(n / count).toFixed(2)}`).join('; ')})\n`)
  } finally {
    await client.close()
    await gateway.discard()
  }
  if (values.bare) {
    const child = await startBaseline(ctx, 's3-put')
    const input = (prefix: string, n: number): S3PutInput => ({ endpoint: S3_ENDPOINT, region: S3_REGION, credentials: S3_CREDENTIALS, bucket, prefix, count: n, size: SIZE, concurrency: 16 })
    try {
      await child.run<S3PutOutput>(input('warm', 200), 120_000)
      const loadBefore = load()
      const c0 = processNs(child.pid)
      const a = snapshot()
      const out = await child.run<S3PutOutput>(input('timed', count), 600_000)
      const b = snapshot()
      const childMs = (processNs(child.pid) - c0) / 1e6
      process.stdout.write(`bare: ${out.completed} PUTs, ${rate(out.completed, out.elapsedMs).toFixed(0)} PUT/s (16 in flight); load ${loadBefore} → ${load()}\n`)
      report('bare run, CPU per PUT:', a, b, () => false, [['bare client during the PUTs', out.cpuMs]])
      line('  bare client incl. making the bodies', childMs)
    } finally {
      await child.stop()
    }
  }
  if (values.download) {
    // The least a capture does besides its PUT: the Graph lookup and the download, bodies discarded.
    const child = await startBaseline(ctx, 'discard-download')
    try {
      const warm = registerMedia(emulator, { count: 200, size: SIZE, mixed: true })
      await child.run({ jobs: warm.jobs, token: ACCESS_TOKEN, dir: workDir, concurrency: 16, maxMs: 60_000 } satisfies DownloadInput, 120_000)
      const set = registerMedia(emulator, { count, size: SIZE, mixed: true })
      const loadBefore = load()
      const a = snapshot()
      const out = await child.run<DownloadOutput>({ jobs: set.jobs, token: ACCESS_TOKEN, dir: workDir, concurrency: 16, maxMs: 600_000 } satisfies DownloadInput, 660_000)
      const b = snapshot()
      process.stdout.write(`discard-download: ${out.completed} media, ${rate(out.completed, out.elapsedMs).toFixed(0)} media/s; load ${loadBefore} → ${load()}\n`)
      report('lookup + download only, CPU per media:', a, b, () => false, [['download client', out.cpuMs]])
    } finally {
      await child.stop()
    }
  }
} finally {
  await schema.drop()
  await emulator.close()
  await benchBucket.remove()
  s3.destroy()
  await rm(workDir, { recursive: true, force: true })
}
