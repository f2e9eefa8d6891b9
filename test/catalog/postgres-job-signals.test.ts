/**
 * Job signals across processes on PostgreSQL: two catalog instances (two pools, two signal
 * connections, as two gateways would have) over one schema. Intake through one wakes an idle
 * capture engine on the other whose poll is a minute long, and a deployment in another schema
 * is not woken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureJobs } from '../../src/capture/capture-job.js'
import type { Settlement } from '../../src/catalog/catalog.js'
import { JobSignals, signallingCatalog } from '../../src/catalog/job-signals.js'
import { PostgresCatalog } from '../../src/catalog/postgres-catalog.js'
import { PostgresJobSignals } from '../../src/catalog/postgres-job-signals.js'
import { JobEngine } from '../../src/jobs/job-engine.js'
import { silentLogger } from '../../src/logging/logger.js'
import { seed } from './fixtures.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'
import { until } from '../helpers/until.js'

const available = await postgresAvailable()
const STORED: Settlement = { status: 'stored', sha256: 'a'.repeat(64), size: 1, blobKey: `sha256/aa/aa/${'a'.repeat(64)}`, sniffedMime: null, mimeType: null }

describe.skipIf(!available)('job signals on PostgreSQL', () => {
  let schema: TestSchema
  let other: TestSchema
  const closers: (() => Promise<void>)[] = []

  beforeAll(async () => {
    schema = await createTestSchema()
    other = await createTestSchema()
  })
  afterAll(async () => {
    for (const close of closers.reverse()) await close()
    await schema?.drop()
    await other?.drop()
  })

  /** One process's catalog and signals; `worker` adds a capture engine with a one-minute idle poll. */
  async function openProcess(schemaName: string, worker: boolean) {
    const raw = new PostgresCatalog({ connectionString: POSTGRES_URL, schema: schemaName, poolSize: 2 })
    await raw.migrate()
    const signals = new JobSignals(new PostgresJobSignals({ connectionString: POSTGRES_URL, schema: schemaName }))
    const catalog = signallingCatalog(raw, signals)
    const captured: string[] = []
    let claims = 0
    const counting = new Proxy(catalog, {
      get: (target, prop) => (prop === 'claim' ? (...args: Parameters<typeof catalog.claim>) => (claims++, target.claim(...args)) : Reflect.get(target, prop)),
    })
    const engine = worker
      ? new JobEngine(captureJobs({ catalog: counting, capture: async () => STORED, retry: { baseDelayMs: 10, maxDelayMs: 20, windowMs: 60_000 }, onSettled: (m) => captured.push(m.id) }), {
          logger: silentLogger(),
          concurrency: 4,
          leaseMs: 30_000,
          crashLimit: 3,
          pollMs: 60_000,
          idlePollMaxMs: 60_000,
        })
      : undefined
    if (engine) {
      signals.on('media', () => engine.wake())
      engine.start()
      signals.listen()
    }
    closers.push(async () => {
      await engine?.stop()
      await signals.close()
      await raw.close()
    })
    return { catalog, captured, claims: () => claims }
  }

  it('intake through one catalog wakes an idle engine on another at once, not at its next poll', async () => {
    const worker = await openProcess(schema.name, true)
    const elsewhere = await openProcess(other.name, true)
    const intake = await openProcess(schema.name, false)
    // Both engines claimed once at start, and once more when their listeners connected.
    await until('the engines to be idle and listening', () => worker.claims() >= 2 && elsewhere.claims() >= 2)
    await new Promise((r) => setTimeout(r, 300))
    const elsewhereClaims = elsewhere.claims()
    const [id] = await seed(intake.catalog, 1)
    await until('the capture in the other process', () => worker.captured.includes(id!), { timeoutMs: 10_000 })
    // Another schema's deployment heard nothing it had to claim for.
    await new Promise((r) => setTimeout(r, 300))
    expect(elsewhere.claims()).toBe(elsewhereClaims)
  })
})
