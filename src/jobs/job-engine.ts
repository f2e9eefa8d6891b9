/**
 * The one leased-job loop, of which every kind of background work is a configuration (capture,
 * forwarding, and the kinds still to come). It claims due jobs with a lease, runs several at
 * once with an abort signal, renews the leases of runs in flight, settles each outcome, backs
 * off after catalog errors, sleeps until woken or until the next job is due, and stops
 * gracefully. A process that dies leaves leases that expire, and any engine (this process
 * restarted, or another) takes the jobs over; the claim, not the engine, keeps a job that keeps
 * crashing its process from being taken again past the crash limit.
 *
 * States: created → running → stopping → stopped.
 */
import { randomUUID } from 'node:crypto'
import { MediagateError, toMediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { WakeableSleep } from '../util/wakeable-sleep.js'
import { inJobSpan, inSpan, type JobTrace, markError } from '../tracing/index.js'

export interface JobClaim {
  /** Identifies the engine; only the lease owner can settle or renew. */
  owner: string
  limit: number
  leaseMs: number
  /** Attempts in a row that may end without a settlement before the claim fails the job (`crashed`). */
  crashLimit: number
}

/** What a kind of work tells the engine: where its jobs are, how to run one, how to settle it. */
export interface JobKind<J, O> {
  /** Names the kind in owner ids and logs: `capture`, `forward`. */
  readonly name: string
  id(job: J): string
  /** Leases up to `limit` due jobs, oldest due first, incrementing their attempts. */
  claim(claim: JobClaim): Promise<J[]>
  /** Extends the leases still owned; returns the ids renewed. Without it a run must end within its lease. */
  renew?(ids: string[], owner: string, leaseMs: number): Promise<string[]>
  /** When the next job is due (null if none), so an idle engine sleeps just until then. */
  nextDueAt?(): Promise<Date | null>
  run(job: J, signal: AbortSignal, log: Logger): Promise<O>
  /** The outcome of a run that threw: retry later (with backoff) or failed for good. */
  afterError(job: J, error: MediagateError): O
  /** The outcome of a run cut short because the engine stops: due again now, its attempt refunded. */
  handBack(job: J, error: MediagateError): O
  /** Applies the outcome if `owner` still holds the lease; false when the lease was lost. */
  settle(job: J, owner: string, outcome: O): Promise<boolean>
  /** Observes an applied outcome (logs, metrics, waking other work). */
  settled?(job: J, outcome: O, log: Logger): void
  /**
   * After `settle` refused the outcome (the job was deleted or taken over meanwhile): undoes what
   * the run left that nothing will use now (a capture's blob). Awaited; a failure is logged.
   */
  refused?(job: J, outcome: O, log: Logger): Promise<void>
  /** Fields for every log line about the job. */
  logFields?(job: J): Record<string, unknown>
  /** Attributes of the job's span (ids, never secrets), and the span it links to; read only when tracing. */
  trace?(job: J): JobTrace
}

export interface JobEngineOptions {
  logger: Logger
  /** Jobs run at once. */
  concurrency: number
  leaseMs: number
  /** Attempts in a row that may end without a settlement (crash, hang, lost lease) before the job fails `crashed`. */
  crashLimit: number
  /** How often to look for due jobs when nothing wakes the engine (other processes' work). Default 1000 ms. */
  pollMs?: number
  owner?: string
  /**
   * What `stop()` does with runs in flight: `abort` them and hand their jobs back (downloads that
   * may take minutes), or let them `finish` (deliveries bounded by their own timeout).
   */
  onStop?: 'abort' | 'finish'
}

type State = 'created' | 'running' | 'stopping' | 'stopped'

/** Longest a freed slot waits for others to free up before it is refilled on its own. */
const CLAIM_BATCH_WAIT_MS = 20
const SETTLE_TRIES = 3

export class JobEngine<J, O> {
  readonly owner: string
  private state: State = 'created'
  private readonly active = new Map<string, AbortController>()
  private readonly idle = new WakeableSleep()
  private loopDone: Promise<void> | undefined
  private renewTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly kind: JobKind<J, O>,
    private readonly options: JobEngineOptions,
  ) {
    this.owner = options.owner ?? `${kind.name}-${process.pid}-${randomUUID().slice(0, 8)}`
  }

  get running(): boolean {
    return this.state === 'running'
  }

  get inFlight(): number {
    return this.active.size
  }

  start(): void {
    if (this.state !== 'created') throw new MediagateError('conflict', `the ${this.kind.name} engine is ${this.state}`)
    this.state = 'running'
    this.loopDone = this.loop()
    if (this.kind.renew) {
      this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(1000, Math.floor(this.options.leaseMs / 3)))
      this.renewTimer.unref()
    }
  }

  /** Something may have become due (a webhook recorded, a job settled, a retry requested). */
  wake(): void {
    this.idle.wake()
  }

  /** Stops claiming, deals with the runs in flight as `onStop` says, and waits for their settlements. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'created') {
      this.state = 'stopped'
      return
    }
    this.state = 'stopping'
    clearInterval(this.renewTimer)
    if ((this.options.onStop ?? 'abort') === 'abort') {
      for (const controller of this.active.values()) controller.abort(new MediagateError('network', `the ${this.kind.name} engine is stopping`))
    }
    this.wake()
    await this.loopDone
    this.state = 'stopped'
  }

  private async loop(): Promise<void> {
    const { concurrency, logger, leaseMs, crashLimit } = this.options
    const pollMs = this.options.pollMs ?? 1000
    let errorDelay = 0
    const runs = new Set<Promise<void>>()
    // A claim is a write transaction (an fsync on SQLite): refill in batches, not slot by slot,
    // unless the engine is idle or a little time has passed since the last claim.
    const batchMin = Math.max(1, Math.floor(concurrency / 4))
    let lastClaimAt = 0
    while (this.state === 'running') {
      let claimed = 0
      const free = concurrency - this.active.size
      const waited = Date.now() - lastClaimAt
      if (free > 0 && free < batchMin && this.active.size > 0 && waited < CLAIM_BATCH_WAIT_MS) {
        await this.idle.sleep(CLAIM_BATCH_WAIT_MS - waited)
        continue
      }
      if (free > 0) {
        lastClaimAt = Date.now()
        try {
          const batch = await this.kind.claim({ owner: this.owner, limit: free, leaseMs, crashLimit })
          claimed = batch.length
          errorDelay = 0
          for (const job of batch) {
            const run = this.run(job).finally(() => {
              runs.delete(run)
              this.wake()
            })
            runs.add(run)
          }
        } catch (err) {
          errorDelay = Math.min(30_000, Math.max(500, errorDelay * 2))
          logger.error({ err: toMediagateError(err, 'catalog'), kind: this.kind.name }, `claiming ${this.kind.name} jobs failed; retrying in ${errorDelay} ms`)
        }
      }
      if (this.state !== 'running') break
      // A full batch means more work is probably waiting: claim again as soon as a slot frees.
      if (claimed > 0 && claimed === free) continue
      await this.idle.sleep(errorDelay || (await this.untilNextDue(pollMs)))
    }
    await Promise.allSettled([...runs])
  }

  private async untilNextDue(pollMs: number): Promise<number> {
    if (!this.kind.nextDueAt || this.active.size >= this.options.concurrency) return pollMs
    try {
      const next = await this.kind.nextDueAt()
      if (!next) return pollMs
      return Math.min(pollMs, Math.max(0, next.getTime() - Date.now()))
    } catch {
      return pollMs
    }
  }

  /** One span per job (named for its kind) when tracing, around the run and the settlement. */
  private run(job: J): Promise<void> {
    return inJobSpan(this.kind.name, () => this.kind.trace?.(job), () => this.runAndSettle(job))
  }

  private async runAndSettle(job: J): Promise<void> {
    const { kind } = this
    const id = kind.id(job)
    const controller = new AbortController()
    this.active.set(id, controller)
    const log = this.options.logger.child(kind.logFields?.(job) ?? { kind: kind.name, jobId: id })
    let outcome: O
    try {
      outcome = await kind.run(job, controller.signal, log)
    } catch (err) {
      const error = toMediagateError(controller.signal.aborted ? (controller.signal.reason ?? err) : err)
      outcome = this.state === 'running' ? kind.afterError(job, error) : kind.handBack(job, error)
      markError(error)
      if (error.code === 'internal') log.error({ err }, `${kind.name} job failed unexpectedly`)
    } finally {
      this.active.delete(id)
    }
    await inSpan('settle', () => this.settle(job, outcome, log))
  }

  private async settle(job: J, outcome: O, log: Logger): Promise<void> {
    for (let attempt = 1; attempt <= SETTLE_TRIES; attempt++) {
      try {
        const applied = await this.kind.settle(job, this.owner, outcome)
        if (applied) this.kind.settled?.(job, outcome, log)
        else {
          log.warn(`the lease was lost before settling: the job was deleted, or another ${this.kind.name} engine owns it now`)
          await this.afterRefusal(job, outcome, log)
        }
        return
      } catch (err) {
        log.error({ err: toMediagateError(err, 'catalog') }, `settling failed (try ${attempt} of ${SETTLE_TRIES})`)
        if (attempt < SETTLE_TRIES) await new Promise((r) => setTimeout(r, 200 * attempt))
      }
    }
    // The lease expires and the job is claimed again (an unsettled attempt: it counts towards the crash limit).
  }

  private async afterRefusal(job: J, outcome: O, log: Logger): Promise<void> {
    try {
      await this.kind.refused?.(job, outcome, log)
    } catch (err) {
      log.error({ err: toMediagateError(err) }, `cleaning up after a refused ${this.kind.name} settlement failed`)
    }
  }

  private async renewLeases(): Promise<void> {
    const ids = [...this.active.keys()]
    if (ids.length === 0 || !this.kind.renew) return
    try {
      const renewed = new Set(await this.kind.renew(ids, this.owner, this.options.leaseMs))
      for (const id of ids) {
        if (!renewed.has(id)) this.active.get(id)?.abort(new MediagateError('conflict', 'the lease was lost to another process'))
      }
    } catch (err) {
      this.options.logger.warn({ err: toMediagateError(err, 'catalog'), kind: this.kind.name }, 'renewing leases failed')
    }
  }
}
