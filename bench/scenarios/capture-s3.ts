/**
 * The scale-out path: capture of 50 KiB media (WhatsApp and Messenger alternating) with the
 * catalog on PostgreSQL and the blobs on the S3-compatible server the tests use (Swift s3api,
 * scripts/s3-test-server.sh), against a bare AWS SDK client PUTting as many 50 KiB objects to the
 * same server at 16 and 64 in flight (baselines/s3-put.ts). Each run gets a fresh PostgreSQL
 * schema and a fresh bucket, both removed afterwards. Without the S3 server or PostgreSQL the
 * scenario is reported as skipped, with the reason, and does not fail the bench.
 *
 * The S3 server shares the machine's two cores with the gateway: CPU the gateway spends is CPU
 * the server lacks, so the gateway's CPU and the server's CPU per media are reported too.
 */
import { readdir, readFile } from 'node:fs/promises'
import { createS3Client } from '../../src/blobs/s3-client.js'
import { startEmulator } from '../../src/emulator/index.js'
import { createTestSchema } from '../../test/helpers/postgres.js'
import { canConnect, POSTGRES_URL, S3_ENDPOINT } from '../../test/helpers/services.js'
import type { S3PutInput, S3PutOutput } from '../baselines/s3-put.js'
import { startBaseline } from '../lib/baseline-child.js'
import { captureAll } from '../lib/capture-run.js'
import type { BenchContext } from '../lib/context.js'
import { ACCESS_TOKEN, APP_SECRET, startGateway } from '../lib/gateway-child.js'
import { GatewayClient } from '../lib/gateway-client.js'
import { registerMedia } from '../lib/media-set.js'
import { type Row, row } from '../lib/report.js'
import type { Scenario } from '../lib/scenario.js'
import { rate } from '../lib/stats.js'
import { processCpuMs } from '../lib/cpu.js'
import { createBenchBucket, S3_CREDENTIALS, S3_REGION, s3GatewayEnv } from '../lib/s3-bench-bucket.js'

const SIZE = 50 * 1024
const WARM_UP = 40
const SCENARIO = 'capture-s3'

/** Why the scenario cannot run here, or undefined when both services answer. */
async function unavailable(): Promise<string | undefined> {
  const s3 = new URL(S3_ENDPOINT)
  if (!(await canConnect(s3.hostname, Number(s3.port || 80)))) {
    return `the S3 test server is not reachable at ${s3.host} (scripts/s3-test-server.sh start, or MEDIAGATE_TEST_S3_ENDPOINT)`
  }
  const db = new URL(POSTGRES_URL)
  if (!(await canConnect(db.hostname, Number(db.port || 5432)))) {
    return `PostgreSQL is not reachable at ${db.host} (or set MEDIAGATE_TEST_POSTGRES_URL)`
  }
  return undefined
}


/** CPU (user + system, all threads) a process has used so far, ms; NaN where /proc cannot tell (not Linux, or it exited). */
async function cpuMsOf(pid: number): Promise<number> {
  try {
    return processCpuMs(pid)
  } catch {
    return Number.NaN
  }
}

/** The Swift server's processes (proxy, object, container, account servers and their workers). */
async function swiftPids(): Promise<number[]> {
  const pids: number[] = []
  try {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
      if (/swift-(proxy|object|container|account)-server/.test(cmd)) pids.push(Number(entry))
    }
  } catch {
    // Not Linux: the server's CPU is not reported.
  }
  return pids
}

async function cpuMsOfAll(pids: number[]): Promise<number> {
  let sum = 0
  for (const pid of pids) sum += await cpuMsOf(pid)
  return pids.length ? sum : Number.NaN
}

interface GatewayS3Run {
  count: number
  stored: number
  failed: number
  failures: Record<string, number>
  mediaPerSecond: number
  elapsedMs: number
  gatewayCpuMs: number
  serverCpuMs: number
  downloads: number
}

async function gatewayRun(ctx: BenchContext, bucket: string, count: number, serverPids: number[]): Promise<GatewayS3Run> {
  const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, latencyMs: 0 })
  // A schema of its own in the test database, made and dropped as the test suites do.
  const schema = await createTestSchema('mg_bench')
  try {
    const gateway = await startGateway(ctx, {
      label: 's3',
      emulatorUrl: emulator.url,
      env: s3GatewayEnv(bucket, schema.url),
    })
    const client = new GatewayClient(gateway.url)
    try {
      await captureAll(client, registerMedia(emulator, { count: WARM_UP, size: SIZE, mixed: true }), 60_000)
      const set = registerMedia(emulator, { count, size: SIZE, mixed: true })
      emulator.resetStats()
      ctx.log(`  mediagate on PostgreSQL + S3: ${count} media`)
      const [cpu0, server0] = [await cpuMsOf(gateway.pid), await cpuMsOfAll(serverPids)]
      const stats = await captureAll(client, set, 600_000)
      const [cpu1, server1] = [await cpuMsOf(gateway.pid), await cpuMsOfAll(serverPids)]
      return {
        count,
        stored: stats.stored,
        failed: stats.failed,
        failures: stats.failures,
        mediaPerSecond: stats.mediaPerSecond,
        elapsedMs: stats.elapsedMs,
        // Includes reading the records back after the last one is stored: a few ms.
        gatewayCpuMs: cpu1 - cpu0,
        serverCpuMs: server1 - server0,
        downloads: emulator.stats().downloadsCompleted,
      }
    } finally {
      await client.close()
      await gateway.discard()
    }
  } finally {
    await schema.drop()
    await emulator.close()
  }
}

interface BaselineRun extends S3PutOutput {
  concurrency: number
  putsPerSecond: number
  serverCpuMs: number
}

/** The bare client, in a child of its own, warmed up once; each `run` is one timed set of PUTs. */
async function startBare(ctx: BenchContext, bucket: string, count: number, serverPids: number[]) {
  const child = await startBaseline(ctx, 's3-put')
  const input = (prefix: string, n: number, concurrency: number): S3PutInput => ({
    endpoint: S3_ENDPOINT,
    region: S3_REGION,
    credentials: S3_CREDENTIALS,
    bucket,
    prefix,
    count: n,
    size: SIZE,
    concurrency,
  })
  try {
    await child.run<S3PutOutput>(input('warm', WARM_UP, 16), 120_000)
  } catch (err) {
    await child.stop()
    throw err
  }
  return {
    async run(concurrency: number): Promise<BaselineRun> {
      ctx.log(`  baseline s3-put: ${count} × PutObject, ${concurrency} in flight`)
      const server0 = await cpuMsOfAll(serverPids)
      const out = await child.run<S3PutOutput>(input(`c${concurrency}`, count, concurrency), 600_000)
      return { ...out, concurrency, putsPerSecond: rate(out.completed, out.elapsedMs), serverCpuMs: (await cpuMsOfAll(serverPids)) - server0 }
    },
    stop: () => child.stop(),
  }
}

const perMedia = (ms: number, n: number) => (n > 0 ? Math.round((ms / n) * 100) / 100 : Number.NaN)

export const captureS3: Scenario = {
  name: 'capture-s3',
  title: 'Capture on PostgreSQL + S3 (Swift s3api) against bare S3 PUTs',
  async run(ctx) {
    const why = await unavailable()
    if (why) {
      ctx.log(`  skipped: ${why}`)
      return {
        scenario: SCENARIO,
        rows: [row({ scenario: SCENARIO, metric: 'media/s on PostgreSQL + S3: skipped', unit: 'media/s', value: Number.NaN, note: `skipped: ${why}` })],
        details: { skipped: why },
        notes: [`skipped: ${why}`],
      }
    }
    const count = ctx.quick ? 200 : 2_000
    const s3 = createS3Client({ endpoint: S3_ENDPOINT, region: S3_REGION, forcePathStyle: true, credentials: S3_CREDENTIALS })
    const serverPids = await swiftPids()
    const bucket = await createBenchBucket(s3, 'mg-bench')
    try {
      // The gateway runs between the two baselines: on a machine whose load drifts, each ratio
      // compares runs minutes apart at most.
      const client = await startBare(ctx, bucket.name, count, serverPids)
      let gw: GatewayS3Run
      const bare: BaselineRun[] = []
      try {
        bare.push(await client.run(16))
        gw = await gatewayRun(ctx, bucket.name, count, serverPids)
        bare.push(await client.run(64))
      } finally {
        await client.stop()
      }
      const problems = [
        ...(gw.failed ? [`${gw.failed} failed: ${JSON.stringify(gw.failures)}`] : []),
        ...(gw.downloads !== count ? [`the emulator served ${gw.downloads} downloads for ${count} media`] : []),
      ]
      const cores = gw.gatewayCpuMs / gw.elapsedMs
      const server = `S3 server CPU ${perMedia(gw.serverCpuMs, gw.stored)} ms per media (bare: ${bare.map((b) => `${perMedia(b.serverCpuMs, b.completed)} ms at ${b.concurrency}`).join(', ')} per PUT)`
      const rows: Row[] = bare.map((b) =>
        row({
          scenario: SCENARIO,
          metric: `media/s, 50 KiB, vs bare PUTs (${b.concurrency} in flight)`,
          unit: 'media/s',
          value: gw.mediaPerSecond,
          baseline: { name: `SDK PutObject, ${b.concurrency} in flight`, value: b.putsPerSecond },
          target: { kind: 'ratio-at-least', value: 0.8 },
          ...(problems.length ? { note: problems.join('; ') } : {}),
        }),
      )
      rows.push(
        row({
          scenario: SCENARIO,
          metric: 'gateway CPU per media, PostgreSQL + S3',
          unit: 'ms',
          value: perMedia(gw.gatewayCpuMs, gw.stored),
          baseline: { name: 'bare client per PUT, 16 in flight', value: perMedia(bare[0]!.cpuMs, bare[0]!.completed) },
          lowerIsBetter: true,
          note: `${cores.toFixed(2)} gateway cores while capturing; ${server}`,
        }),
      )
      return {
        scenario: SCENARIO,
        rows,
        details: { count, size: SIZE, gateway: gw, bare },
        notes: [
          'Gateway: role all, default concurrency (64), catalog on PostgreSQL (a fresh schema), blobs on the S3 test server (Swift 2.30 s3api, one proxy worker, on the same machine); media alternate WhatsApp (sha256 declared) and Messenger (not declared). Gateway time runs from the first webhook sent to the last stored_at.',
          'Baseline: one AWS SDK S3Client with its defaults, PutObject of pre-made 50 KiB random bodies under sha256 keys; no download, no hashing in the timed part, no catalog.',
          'CPU: the gateway process (all threads) and the Swift processes, from /proc, over the timed run.',
        ],
      }
    } finally {
      await bucket.remove().catch((err: unknown) => ctx.log(`  could not remove bucket ${bucket.name}: ${String(err)}`))
      s3.destroy()
    }
  },
}
