/**
 * The job engine on a real SQLite catalog, with capture as its kind and capture attempts that
 * the test controls: how a graceful stop hands jobs back, how a lost lease stops a run, how
 * claim errors are backed off and recovered from, how a wake is never lost, and how an idle
 * engine polls less and less often without missing a job that becomes due.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CaptureFn, captureJobs } from '../../src/capture/capture-job.js'
import type { Settlement } from '../../src/catalog/catalog.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { MediagateError } from '../../src/errors.js'
import { type IdleSleep, JobEngine, type JobKind } from '../../src/jobs/job-engine.js'
import { silentLogger } from '../../src/logging/logger.js'
import type { MediaRecord } from '../../src/media/record.js'
import { seed } from '../catalog/fixtures.js'
import { until } from '../helpers/until.js'

const RETRY = { baseDelayMs: 10, maxDelayMs: 20, windowMs: 400 }
const CRASH_LIMIT = 3
const STORED: Settlement = { status: 'stored', sha256: 'a'.repeat(64), size: 1, blobKey: `sha256/aa/aa/${'a'.repeat(64)}`, sniffedMime: null, mimeType: null }

let dir: string
let catalog: SqliteCatalog
const engines: JobEngine<MediaRecord, Settlement>[] = []
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-jobs-'))
  catalog = new SqliteCatalog({ path: path.join(dir, 'catalog.db') })
  await catalog.migrate()
})
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop()
  await catalog.close()
  await rm(dir, { recursive: true, force: true })
})

function engine(capture: CaptureFn, options: { leaseMs?: number; pollMs?: number; claimCatalog?: typeof catalog; onStop?: 'abort' | 'finish' } = {}) {
  const settled: { id: string; settlement: Settlement }[] = []
  const e = new JobEngine(
    captureJobs({ catalog: options.claimCatalog ?? catalog, capture, retry: RETRY, onSettled: (m, s) => settled.push({ id: m.id, settlement: s }) }),
    { logger: silentLogger(), concurrency: 4, leaseMs: options.leaseMs ?? 30_000, crashLimit: CRASH_LIMIT, pollMs: options.pollMs ?? 30, ...(options.onStop ? { onStop: options.onStop } : {}) },
  )
  engines.push(e)
  return { engine: e, settled }
}

describe('JobEngine', () => {
  it('runs due jobs and settles their outcomes', async () => {
    const ids = await seed(catalog, 10)
    const { engine: e, settled } = engine(async () => STORED)
    e.start()
    await until('ten settlements', () => settled.length === 10)
    for (const id of ids) expect((await catalog.get(id))?.status).toBe('stored')
  })

  it('retries a failed run with backoff, then fails it for good once its retry window is over', async () => {
    const [id] = await seed(catalog, 1)
    const { engine: e } = engine(async () => {
      throw new MediagateError('upstream', 'Meta answered 503')
    })
    e.start()
    const record = await until('the job to give up', async () => {
      const m = await catalog.get(id!)
      return m?.status === 'failed' ? m : undefined
    })
    expect(record.attempts).toBeGreaterThanOrEqual(3)
    expect(record.error).toMatchObject({ code: 'upstream', message: expect.stringMatching(/^gave up after \d+ attempts, as the retry window \(MEDIAGATE_RETRY_WINDOW\) ends at .*: Meta answered 503$/) })
  })

  it('stop() aborts runs in flight and hands their jobs back due now, without spending an attempt', async () => {
    const [id] = await seed(catalog, 1)
    let started = 0
    const { engine: e } = engine(
      (_media, signal) =>
        new Promise((_resolve, reject) => {
          started++
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        }),
    )
    e.start()
    await until('the run to start', () => started === 1)
    expect((await catalog.get(id!))?.attempts).toBe(1)
    await e.stop()
    const back = await catalog.get(id!)
    expect(back).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null })
    expect(back!.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now())
  })

  it("with onStop 'finish', stop() lets runs in flight end and settles them", async () => {
    const [id] = await seed(catalog, 1)
    let release: (() => void) | undefined
    const { engine: e } = engine(() => new Promise((resolve) => (release = () => resolve(STORED))), { onStop: 'finish' })
    e.start()
    await until('the run to start', () => release)
    const stopping = e.stop()
    await new Promise((r) => setTimeout(r, 50))
    expect((await catalog.get(id!))?.status).toBe('pending')
    release!()
    await stopping
    expect((await catalog.get(id!))?.status).toBe('stored')
  })

  it('aborts a run whose lease another process took over, and its late outcome is refused', async () => {
    const [id] = await seed(catalog, 1)
    let aborted: unknown
    const { engine: e, settled } = engine(
      (_media, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject((aborted = signal.reason)), { once: true })
        }),
      { leaseMs: 1500 },
    )
    e.start()
    await until('the claim', async () => (await catalog.get(id!))?.leaseOwner === e.owner)
    // Another process claims the job as if the lease had run out (its clock past the lease).
    const [taken] = await catalog.claim({ owner: 'another-process', limit: 1, leaseMs: 60_000, crashLimit: 10, now: new Date(Date.now() + 60_000) })
    expect(taken?.id).toBe(id)
    // The engine renews every second; the renewal finds the lease gone and aborts the run.
    await until('the run to be aborted', () => aborted, { timeoutMs: 5000 })
    expect(aborted).toMatchObject({ code: 'conflict' })
    await new Promise((r) => setTimeout(r, 100))
    expect(settled).toEqual([])
    expect((await catalog.get(id!))?.leaseOwner).toBe('another-process')
  })

  it('backs off after a failed claim and recovers when the catalog answers again', async () => {
    const [id] = await seed(catalog, 1)
    let failures = 0
    const flaky = new Proxy(catalog, {
      get(target, prop, receiver) {
        if (prop === 'claim') {
          return (...args: Parameters<SqliteCatalog['claim']>) => {
            if (failures < 2) {
              failures++
              return Promise.reject(new Error('database is locked'))
            }
            return target.claim(...args)
          }
        }
        const value: unknown = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const { engine: e } = engine(async () => STORED, { claimCatalog: flaky })
    e.start()
    await until('the media stored', async () => (await catalog.get(id!))?.status === 'stored')
    expect(failures).toBe(2)
  })

  it('refills the slots its settlements free in the same catalog call, never running more jobs than its concurrency', async () => {
    const ids = await seed(catalog, 30)
    const calls = { claim: 0, settleAndClaim: 0 }
    const counting = new Proxy(catalog, {
      get(target, prop, receiver) {
        if (prop === 'claim' || prop === 'settleAndClaim') calls[prop]++
        const value: unknown = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    let running = 0
    let most = 0
    const { engine: e, settled } = engine(
      async () => {
        most = Math.max(most, ++running)
        await new Promise((r) => setTimeout(r, 5))
        running--
        return STORED
      },
      { claimCatalog: counting },
    )
    e.start()
    await until('thirty settlements', () => settled.length === 30)
    for (const id of ids) expect((await catalog.get(id))?.status).toBe('stored')
    expect(most).toBeLessThanOrEqual(4)
    expect(calls.settleAndClaim).toBeGreaterThan(0)
    // The first fill and the claims that find the queue empty; the rest came with settlements.
    expect(calls.claim).toBeLessThan(8)
  })

  it('hands back, unstarted and with their attempts refunded, the jobs a settlement claimed while the engine began to stop', async () => {
    const ids = await seed(catalog, 3)
    let gate: (() => void) | undefined
    let inSettle = false
    const gated = new Proxy(catalog, {
      get(target, prop, receiver) {
        if (prop === 'settleAndClaim') {
          return async (...args: Parameters<SqliteCatalog['settleAndClaim']>) => {
            const answer = await target.settleAndClaim(...args)
            inSettle = true
            await new Promise<void>((r) => (gate = r))
            return answer
          }
        }
        const value: unknown = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    let runs = 0
    const e = new JobEngine(captureJobs({ catalog: gated, capture: async () => (runs++, STORED), retry: RETRY }), { logger: silentLogger(), concurrency: 1, leaseMs: 30_000, crashLimit: CRASH_LIMIT, pollMs: 30 })
    engines.push(e)
    e.start()
    await until('a settlement that claimed', () => inSettle)
    const claimedMeanwhile = (await Promise.all(ids.map((id) => catalog.get(id)))).filter((m) => m?.status === 'pending' && m.leaseOwner === e.owner)
    expect(claimedMeanwhile).toHaveLength(1)
    const stopping = e.stop()
    gate!()
    await stopping
    expect(runs).toBe(1)
    expect(await catalog.get(claimedMeanwhile[0]!.id)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null })
    expect((await Promise.all(ids.map((id) => catalog.get(id)))).filter((m) => m?.status === 'stored')).toHaveLength(1)
  })

  it('a wake gets new work claimed at once, without waiting for the next poll', async () => {
    const { engine: e, settled } = engine(async () => STORED, { pollMs: 60_000 })
    e.start()
    await new Promise((r) => setTimeout(r, 50))
    // Idle with a one-minute poll: only the wake can get this job claimed within the test.
    const [id] = await seed(catalog, 1)
    e.wake()
    await until('its settlement', () => settled.some((s) => s.id === id), { timeoutMs: 2000 })
  })

  describe('idle polling', () => {
    /**
     * The engine's idle wait, stepped by the test: each sleep is recorded and waits until the test
     * lets its time run out (`timeOut`) or the engine is woken; `realTime` makes later sleeps real.
     */
    class SteppedSleep implements IdleSleep {
      readonly slept: number[] = []
      realTime = false
      private pending: ((woken: boolean) => void) | undefined
      private woken = false

      sleep(ms: number): Promise<boolean> {
        this.slept.push(ms)
        if (this.woken) {
          this.woken = false
          return Promise.resolve(true)
        }
        return new Promise((resolve) => {
          const timer = this.realTime ? setTimeout(() => this.end(false), ms) : undefined
          this.pending = (woken) => {
            clearTimeout(timer)
            resolve(woken)
          }
        })
      }

      wake(): void {
        if (this.pending) this.end(true)
        else this.woken = true
      }

      /** Waits until the engine sleeps its `n`th sleep (1-based). */
      async asleep(n: number): Promise<void> {
        await until(`sleep ${n}`, () => this.slept.length >= n && this.pending !== undefined)
      }

      /** Lets the current sleep's time run out. */
      timeOut(): void {
        this.end(false)
      }

      private end(woken: boolean): void {
        const pending = this.pending
        this.pending = undefined
        pending?.(woken)
      }
    }

    function steppedEngine(capture: CaptureFn, pollMs: number, idlePollMaxMs: number) {
      const sleep = new SteppedSleep()
      const settled: string[] = []
      const e = new JobEngine(captureJobs({ catalog, capture, retry: RETRY, onSettled: (m) => settled.push(m.id) }), {
        logger: silentLogger(),
        concurrency: 4,
        leaseMs: 30_000,
        crashLimit: CRASH_LIMIT,
        pollMs,
        idlePollMaxMs,
        sleep,
      })
      engines.push(e)
      return { engine: e, sleep, settled }
    }

    it('doubles the poll interval while claims find nothing, up to the bound, and starts again at pollMs after a wake', async () => {
      const { engine: e, sleep } = steppedEngine(async () => STORED, 100, 800)
      e.start()
      for (let n = 1; n <= 6; n++) {
        await sleep.asleep(n)
        if (n < 6) sleep.timeOut()
      }
      expect(sleep.slept).toEqual([100, 200, 400, 800, 800, 800])
      e.wake()
      await sleep.asleep(7)
      sleep.timeOut()
      await sleep.asleep(8)
      expect(sleep.slept.slice(6)).toEqual([100, 200])
    })

    it('starts again at pollMs after work, and backs off again once the work is done', async () => {
      const { engine: e, sleep, settled } = steppedEngine(async () => STORED, 100, 800)
      e.start()
      for (let n = 1; n <= 4; n++) {
        await sleep.asleep(n)
        sleep.timeOut()
      }
      await sleep.asleep(5)
      expect(sleep.slept).toEqual([100, 200, 400, 800, 800])
      // Work the engine is not told about (another process's, with no signal): found by the poll.
      const [id] = await seed(catalog, 1)
      sleep.timeOut()
      await until('its settlement', () => settled.includes(id!))
      // The run's end wakes the loop (stepped sleeps end only so): let it settle into its next sleep.
      await until('the run to end', () => e.inFlight === 0)
      await new Promise((r) => setTimeout(r, 100))
      const afterWork = sleep.slept.length
      await sleep.asleep(afterWork)
      sleep.timeOut()
      await sleep.asleep(afterWork + 1)
      sleep.timeOut()
      await sleep.asleep(afterWork + 2)
      expect(sleep.slept.slice(afterWork - 1)).toEqual([100, 200, 400])
    })

    it('a job due sooner than the backed-off poll is claimed when it is due', async () => {
      const { engine: e, sleep, settled } = steppedEngine(async () => STORED, 50, 60_000)
      e.start()
      for (let n = 1; n <= 12; n++) {
        await sleep.asleep(n)
        if (n < 12) sleep.timeOut()
      }
      expect(sleep.slept.at(-1)).toBe(60_000)
      // A retry due in 2 s, written without a wake (as a settlement in another process would).
      const [id] = await seed(catalog, 1)
      const [job] = await catalog.claim({ owner: 'another-process', limit: 1, leaseMs: 30_000, crashLimit: CRASH_LIMIT })
      expect(job?.id).toBe(id)
      const dueAt = Date.now() + 2000
      expect(await catalog.settle(id!, 'another-process', { status: 'retry', error: { code: 'upstream', message: 'Meta answered 503' }, nextAttemptAt: new Date(dueAt) })).toBe(true)
      // The engine's idle minute runs out at once here; from now on its sleeps take real time.
      sleep.realTime = true
      const next = sleep.slept.length
      sleep.timeOut()
      await until('its settlement', () => settled.includes(id!), { timeoutMs: 10_000 })
      const slept = sleep.slept[next]!
      // It slept until the retry was due, not a backed-off poll (nor pollMs steps).
      expect(slept).toBeGreaterThan(1000)
      expect(slept).toBeLessThanOrEqual(2000)
      expect(Date.now()).toBeGreaterThanOrEqual(dueAt)
    })

    it('a kind without nextDueAt (forwards) has the retries it settled claimed when due, however long its poll', async () => {
      // An in-memory queue of one job: the first run asks for a retry in 1.5 s.
      const due = new Map<string, number>([['job', 0]])
      let runs = 0
      const kind: JobKind<string, { retryAt?: Date }> = {
        name: 'memo',
        id: (job) => job,
        async claim({ limit }) {
          const now = Date.now()
          const claimed = [...due].filter(([, at]) => at <= now).slice(0, limit).map(([id]) => id)
          for (const id of claimed) due.set(id, Infinity)
          return claimed
        },
        run: async () => (++runs === 1 ? { retryAt: new Date(Date.now() + 1500) } : {}),
        afterError: () => ({}),
        handBack: () => ({}),
        async settle(job, _owner, outcome) {
          if (outcome.retryAt) due.set(job, outcome.retryAt.getTime())
          else due.delete(job)
          return true
        },
        retryAt: (outcome) => outcome.retryAt,
      }
      const sleep = new SteppedSleep()
      sleep.realTime = true
      const e = new JobEngine(kind, { logger: silentLogger(), concurrency: 1, leaseMs: 30_000, crashLimit: CRASH_LIMIT, pollMs: 60_000, idlePollMaxMs: 60_000, sleep })
      engines.push(e as unknown as JobEngine<MediaRecord, Settlement>)
      e.start()
      await until('the retry', () => runs === 2, { timeoutMs: 10_000 })
      expect(sleep.slept.some((ms) => ms > 1000 && ms <= 1500)).toBe(true)
    })
  })
})
