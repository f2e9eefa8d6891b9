/**
 * Scenario 1, intake: signed WhatsApp and Messenger webhooks (alternating, every one unique)
 * posted by autocannon to /webhooks/meta. The gateway runs with role `api`, so no capture worker
 * competes for its core. Baselines: a bare node:http server answering 200 to the same requests,
 * and the same server storing each body durably in SQLite first (group commit), which shows what
 * durability alone costs. Beside them, the intake floors (baselines/floor-intake.ts): the least
 * CPU per webhook that five ways of recording it, with the gateway's schema, can spend, and the
 * least any design spends (parsed, nothing stored).
 *
 * The target is per server core: requests answered per second of CPU the server process spent
 * (all its threads) over the timed window, so neighbours on a shared machine change it little.
 */
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { startEmulator } from '../../src/emulator/index.js'
import { sign } from '../../src/emulator/signing.js'
import { webhookBody } from '../../src/emulator/webhook-sender.js'
import { startBaseline } from '../lib/baseline-child.js'
import type { BenchContext } from '../lib/context.js'
import { ACCESS_TOKEN, APP_SECRET, startGateway } from '../lib/gateway-child.js'
import { GatewayClient, WEBHOOK_PATH } from '../lib/gateway-client.js'
import { assertClean, type LoadResult, runLoad } from '../lib/load.js'
import { runPacedLoad } from '../lib/paced-load.js'
import { type CpuUsed, withCpu } from '../lib/cpu.js'
import { row } from '../lib/report.js'
import type { Scenario } from '../lib/scenario.js'

const PLACEHOLDER = '__BENCHID__'
/** Seconds at the fixed rate before its latencies are recorded (1 with --quick). */
const STEADY_WARM_UP_S = 3

/** Real payloads from the emulator's builders, split around the message id so each request differs. */
export async function templates(): Promise<string[][]> {
  const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
  try {
    const wa = emulator.addWhatsAppMedia({ size: 50 * 1024, mimeType: 'image/jpeg' })
    const cdn = emulator.addCdnMedia({ platform: 'messenger', size: 50 * 1024, mimeType: 'image/jpeg' })
    return [
      webhookBody(emulator.payloads.whatsappMedia(wa, { wamid: `wamid.HBgL${PLACEHOLDER}`, caption: 'bench' })).toString().split(PLACEHOLDER),
      webhookBody(emulator.payloads.messengerMedia(cdn, { mid: `m_${PLACEHOLDER}` })).toString().split(PLACEHOLDER),
    ]
  } finally {
    await emulator.close()
  }
}

/** A request factory: unique message ids (so no request is a redelivery), each body signed. */
export function requestFactory(parts: string[][]): () => { body: Buffer; headers: Record<string, string> } {
  const tag = `${process.pid}x${Date.now().toString(36)}x`
  let n = 0
  return () => {
    n++
    const body = Buffer.from(parts[n % parts.length]!.join(`${tag}${n}`))
    return { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, APP_SECRET) } }
  }
}

interface Measured {
  max: LoadResult
  fixed: LoadResult
  /** Server CPU (seconds, all threads) over each timed window. */
  maxCpu: CpuUsed
  fixedCpu: CpuUsed
}

/** Requests answered 2xx per second of server CPU. */
function perCore(load: LoadResult, cpu: CpuUsed): number {
  return (load.rps * load.durationSeconds) / cpu.total
}

/** Server CPU per request, µs. */
function cpuPerRequestUs(load: LoadResult, cpu: CpuUsed): number {
  return (cpu.total * 1e6) / (load.rps * load.durationSeconds)
}

/** Maximum throughput at 32 connections, after a warm-up, with the server's CPU over the timed window. */
async function measureMax(ctx: BenchContext, pid: number, url: string, next: ReturnType<typeof requestFactory>, name: string): Promise<{ max: LoadResult; maxCpu: CpuUsed }> {
  const seconds = ctx.quick ? 2 : 10
  const base = { url, method: 'POST' as const, path: WEBHOOK_PATH, nextRequest: next }
  // Warm-up: JIT, connection setup, SQLite page cache.
  await runLoad({ ...base, connections: 8, durationSeconds: 1, maxRequests: 50_000 })
  ctx.log(`  ${name}: maximum throughput, ${seconds} s`)
  const { result: max, cpu: maxCpu } = await withCpu(pid, () => runLoad({ ...base, connections: 32, durationSeconds: seconds, maxRequests: 1_000_000 }))
  assertClean(`${name} throughput`, max)
  return { max, maxCpu }
}

async function measure(ctx: BenchContext, pid: number, url: string, next: ReturnType<typeof requestFactory>, name: string): Promise<Measured> {
  const seconds = ctx.quick ? 2 : 10
  const { max, maxCpu } = await measureMax(ctx, pid, url, next, name)
  const warmUp = ctx.quick ? 1 : STEADY_WARM_UP_S
  ctx.log(`  ${name}: fixed rate 1,000 req/s, ${seconds} s after ${warmUp} s at that rate`)
  const paced = { url, method: 'POST' as const, path: WEBHOOK_PATH, nextRequest: next, rate: 1000, connections: 32 }
  // Steady state, not the wake of the maximum-throughput run (its WAL is still being checkpointed).
  await runPacedLoad({ ...paced, durationSeconds: warmUp })
  const { result: fixed, cpu: fixedCpu } = await withCpu(pid, () => runPacedLoad({ ...paced, durationSeconds: seconds }))
  assertClean(`${name} fixed rate`, fixed)
  const split = (c: CpuUsed, l: LoadResult) => {
    const us = (s: number) => Math.round((s * 1e6) / (l.rps * l.durationSeconds))
    return `${us(c.total)} µs CPU per request (main thread ${us(c.main)}, busiest other thread ${us(c.busiestOther)}, rest ${us(c.rest)})`
  }
  ctx.log(`  ${name}: ${Math.round(perCore(max, maxCpu))} req per CPU-second at full speed: ${split(maxCpu, max)}; at 1,000 req/s: ${split(fixedCpu, fixed)}`)
  return { max, fixed, maxCpu, fixedCpu }
}

/**
 * An intake floor measured `how` (measureMax, or measure for its latency at 1,000 req/s too), and
 * a check that it recorded a media row per webhook ('parse' records none).
 */
async function measureFloor<M extends { max: LoadResult; maxCpu: CpuUsed }>(
  ctx: BenchContext,
  next: ReturnType<typeof requestFactory>,
  mode: 'records' | 'narrow' | 'bulk' | 'log' | 'logthread' | 'parse',
  how: (ctx: BenchContext, pid: number, url: string, next: ReturnType<typeof requestFactory>, name: string) => Promise<M>,
): Promise<M & { mediaRows: number }> {
  const file = path.join(ctx.workDir, `floor-intake-${mode}.db`)
  const floor = await startBaseline<{ url: string }>(ctx, 'floor-intake', {
    FLOOR_DB: file,
    FLOOR_APP_SECRET: APP_SECRET,
    FLOOR_INTAKE: mode,
    // FLOOR_METER=1 npm run bench -- --only intake --keep: the floor's CPU by part, in its log.
    ...(process.env.FLOOR_METER ? { FLOOR_METER: process.env.FLOOR_METER } : {}),
  })
  let measured: M
  try {
    measured = await how(ctx, floor.pid, floor.ready.url, next, `intake floor (${mode})`)
  } finally {
    await floor.stop()
  }
  // A floor that answered 200 and built nothing would be a fast lie (bulk builds after the 200, the rest at stop).
  const db = new BetterSqlite3(file, { readonly: true })
  try {
    const count = (table: string) => db.prepare(`select count(*) from ${table}`).pluck().get() as number
    const mediaRows = count('media')
    if (mode === 'parse') return { ...measured, mediaRows }
    // Every request of the bench is a supported webhook with one media.
    if (mediaRows === 0 || mediaRows !== count('webhooks')) throw new Error(`intake floor (${mode}): ${mediaRows} media rows for ${count('webhooks')} webhooks`)
    return { ...measured, mediaRows }
  } finally {
    db.close()
  }
}

export const intake: Scenario = {
  name: 'intake',
  title: 'Intake: signed webhooks, durably recorded before the 200',
  async run(ctx) {
    const next = requestFactory(await templates())
    const gateway = await startGateway(ctx, { label: 'intake', env: { MEDIAGATE_ROLE: 'api' } })
    let gw: Measured
    try {
      gw = await measure(ctx, gateway.pid, gateway.url, next, 'mediagate')
      // A 200 that recorded nothing would be a fast lie: check the records exist.
      const client = new GatewayClient(gateway.url, 1)
      const page = await client.api<{ data: unknown[] }>('/v1/media?limit=1')
      await client.close()
      if (page.data.length === 0) throw new Error('intake answered 200 but recorded no media')
    } finally {
      await gateway.stop()
    }
    const bare = await startBaseline<{ url: string }>(ctx, 'bare-http')
    let baseline: Measured
    try {
      baseline = await measure(ctx, bare.pid, bare.ready.url, next, 'bare node:http')
    } finally {
      await bare.stop()
    }
    const framework = await startBaseline<{ url: string }>(ctx, 'fastify-http')
    let fastify: Measured
    try {
      fastify = await measure(ctx, framework.pid, framework.ready.url, next, 'fastify alone')
    } finally {
      await framework.stop()
    }
    const durableBare = await startBaseline<{ url: string }>(ctx, 'durable-http', { DURABLE_DIR: ctx.workDir })
    let durable: Measured
    try {
      durable = await measure(ctx, durableBare.pid, durableBare.ready.url, next, 'durable node:http')
    } finally {
      await durableBare.stop()
    }
    const floors = {
      // Their latency at 1,000 req/s: this design without the thread hop, and the least a request path commits.
      records: await measureFloor(ctx, next, 'records', measure),
      narrow: await measureFloor(ctx, next, 'narrow', measureMax),
      bulk: await measureFloor(ctx, next, 'bulk', measureMax),
      log: await measureFloor(ctx, next, 'log', measure),
      logthread: await measureFloor(ctx, next, 'logthread', measure),
      parse: await measureFloor(ctx, next, 'parse', measureMax),
    }
    const s = 'intake'
    return {
      scenario: s,
      rows: [
        row({ scenario: s, metric: 'webhooks/s, 32 connections', unit: 'req/s', value: gw.max.rps, baseline: { name: 'bare node:http', value: baseline.max.rps } }),
        row({
          scenario: s,
          metric: 'webhooks per server core, 32 connections',
          unit: 'req/CPU-s',
          value: perCore(gw.max, gw.maxCpu),
          baseline: { name: 'bare node:http', value: perCore(baseline.max, baseline.maxCpu) },
          target: { kind: 'ratio-at-least', value: 0.5 },
        }),
        row({
          scenario: s,
          metric: 'webhooks per server core, 32 connections',
          unit: 'req/CPU-s',
          value: perCore(gw.max, gw.maxCpu),
          baseline: { name: 'durable node:http', value: perCore(durable.max, durable.maxCpu) },
        }),
        row({
          scenario: s,
          metric: 'webhooks per server core, 32 connections',
          unit: 'req/CPU-s',
          value: perCore(gw.max, gw.maxCpu),
          baseline: { name: 'fastify alone', value: perCore(fastify.max, fastify.maxCpu) },
        }),
        row({
          scenario: s,
          metric: 'intake floor, this design: webhook and media rows committed before the 200, per server core',
          unit: 'req/CPU-s',
          value: perCore(floors.records.max, floors.records.maxCpu),
          baseline: { name: 'bare node:http', value: perCore(baseline.max, baseline.maxCpu) },
        }),
        row({
          scenario: s,
          metric: 'intake floor, fewer indexes: as this design, the listing indexes entered only once a capture settles the record, per server core',
          unit: 'req/CPU-s',
          value: perCore(floors.narrow.max, floors.narrow.maxCpu),
          baseline: { name: 'bare node:http', value: perCore(baseline.max, baseline.maxCpu) },
        }),
        row({
          scenario: s,
          metric: 'intake floor, cheaper record: webhook row before the 200, media rows built in bulk, per server core',
          unit: 'req/CPU-s',
          value: perCore(floors.bulk.max, floors.bulk.maxCpu),
          baseline: { name: 'bare node:http', value: perCore(baseline.max, baseline.maxCpu) },
        }),
        row({
          scenario: s,
          metric: 'intake floor, cheapest record: body appended to a log before the 200, webhook and media rows built in bulk, per server core',
          unit: 'req/CPU-s',
          value: perCore(floors.log.max, floors.log.maxCpu),
          baseline: { name: 'bare node:http', value: perCore(baseline.max, baseline.maxCpu) },
        }),
        row({
          scenario: s,
          metric: 'intake floor, cheapest record built on another thread: signature and JSON.parse, the body logged before the 200, rows built by a worker thread, per server core',
          unit: 'req/CPU-s',
          value: perCore(floors.logthread.max, floors.logthread.maxCpu),
          baseline: { name: 'bare node:http', value: perCore(baseline.max, baseline.maxCpu) },
        }),
        row({
          scenario: s,
          metric: 'intake floor, nothing stored: signature, parse and rows, then the 200 (the bound under every design), per server core',
          unit: 'req/CPU-s',
          value: perCore(floors.parse.max, floors.parse.maxCpu),
          baseline: { name: 'bare node:http', value: perCore(baseline.max, baseline.maxCpu) },
        }),
        row({
          scenario: s,
          metric: 'server CPU per webhook at 1,000 req/s',
          unit: 'µs',
          value: cpuPerRequestUs(gw.fixed, gw.fixedCpu),
          baseline: { name: 'bare node:http', value: cpuPerRequestUs(baseline.fixed, baseline.fixedCpu) },
          lowerIsBetter: true,
        }),
        row({
          scenario: s,
          metric: 'p99 latency at 1,000 req/s',
          unit: 'ms',
          value: gw.fixed.latencyMs.p99,
          baseline: { name: 'bare node:http', value: baseline.fixed.latencyMs.p99 },
          lowerIsBetter: true,
          target: { kind: 'at-most', value: 10 },
        }),
        row({
          scenario: s,
          metric: 'p99 latency at 1,000 req/s',
          unit: 'ms',
          value: gw.fixed.latencyMs.p99,
          baseline: { name: 'durable node:http', value: durable.fixed.latencyMs.p99 },
          lowerIsBetter: true,
        }),
        row({
          scenario: s,
          metric: 'intake floor, this design: p99 latency at 1,000 req/s (one thread, commits on the event loop)',
          unit: 'ms',
          value: floors.records.fixed.latencyMs.p99,
          baseline: { name: 'bare node:http', value: baseline.fixed.latencyMs.p99 },
          lowerIsBetter: true,
        }),
        row({
          scenario: s,
          metric: 'intake floor, cheapest record: p99 latency at 1,000 req/s (the body logged before the 200)',
          unit: 'ms',
          value: floors.log.fixed.latencyMs.p99,
          baseline: { name: 'bare node:http', value: baseline.fixed.latencyMs.p99 },
          lowerIsBetter: true,
        }),
        row({
          scenario: s,
          metric: 'intake floor, cheapest record built on another thread: p99 latency at 1,000 req/s (the body logged before the 200, no build on the loop that answers)',
          unit: 'ms',
          value: floors.logthread.fixed.latencyMs.p99,
          baseline: { name: 'durable node:http', value: durable.fixed.latencyMs.p99 },
          lowerIsBetter: true,
        }),
      ],
      details: { gateway: gw, baseline, fastify, durable, floors },
      notes: [
        'Gateway role `api` (no capture worker); SQLite catalog; webhooks alternate WhatsApp and Messenger, each with a unique message id and its own HMAC signature.',
        'autocannon (throughput) and the paced sender (fixed rate) run in the bench process, the server under test in its own process: one core each.',
        'Fastify alone: fastify set up as the gateway sets it up, answering the webhook route with no signature check, parsing or catalog: the framework\'s own cost.',
        'Per server core: 2xx answers ÷ CPU seconds of the server process (every thread, /proc schedstat) over the timed window. Durable node:http stores each body in SQLite (WAL, synchronous = FULL) and answers after the commit, bodies read meanwhile sharing one transaction.',
        'The intake floors (bench/baselines/floor-intake.ts) bound what a design can reach: signature, JSON.parse, the gateway\'s parser and row mapping, its SQLite schema (indexes, count triggers) written with raw statements on the event loop, one transaction per event-loop turn, no thread, logging or metrics. "This design" commits the webhook and its media rows before the 200; "fewer indexes" does the same with the media indexes a pending record does not need (status, platform, message, webhook, received, sender) partial on status <> \'pending\', so a record enters them when its capture settles it, outside intake; "cheaper record" commits the webhook row before the 200 and builds the media rows every 50 ms in one transaction (sorted, one count delta per platform and status instead of a trigger per row), in the same process, so its CPU is counted; "cheapest record" appends the body to an integer-keyed log before the 200 and builds the webhook rows (their unique body hash) with the media rows; "built on another thread" checks the signature and that the body is JSON, appends it to a log in a file of its own before the 200, and leaves the parser and both kinds of rows to a worker thread that reads the log past its mark and builds into the catalog\'s file every 50 ms (its CPU is the process\'s, so counted); "nothing stored" checks, parses and maps the rows and answers, storing nothing: not a design, the least any design with the gateway\'s parsing spends.',
        'The fixed rate is open-loop: request i is due at i ms and its latency counts from then (bench/lib/paced-load.ts); autocannon\'s rate mode sends each second\'s share in a burst.',
      ],
    }
  },
}
