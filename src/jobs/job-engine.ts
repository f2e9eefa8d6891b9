/**
 * The one leased-job loop, of which every kind of background work is a configuration (capture,
 * forwarding, and the kinds still to come). It claims due jobs with a lease, runs several at
 * once with an abort signal, renews the leases of runs in flight, settles each outcome, backs
 * off after catalog errors, sleeps until woken or until the next job is due, and stops
 * gracefully. Idle, it looks for work less and less often (pollMs doubling up to idlePollMaxMs):
 * work this process queues wakes it directly, and work other processes queue reaches it through
 * the catalog's job signals (PostgreSQL LISTEN/NOTIFY) or, failing those, the bounded poll. A
 * process that dies leaves leases that expire, and any engine (this process restarted, or
 * another) takes the jobs over; the claim, not the engine, keeps a job that keeps
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
  /**
   * When an outcome makes its job due again (a retry), for a kind without `nextDueAt`: the engine
   * remembers the retries it settled and wakes for them, however far its idle poll backed off.
   */
  retryAt?(outcome: O): Date | undefined
  run(job: J, signal: AbortSignal, log: Logger): Promise<O>
  /** The outcome of a run that threw: retry later (with backoff) or failed for good. */
  afterError(job: J, error: MediagateError): O
  /** The outcome of a run cut short because the engine stops: due again now, its attempt refunded. */
  handBack(job: J, error: MediagateError): O
  /** Applies the outcome if `owner` still holds the lease; false when the lease was lost. */
  settle(job: J, owner: string, outcome: O): Promise<boolean>
  /**
   * `settle` and, in the same transaction (one round trip, one commit), `claim`: the slot a
   * settlement frees is refilled without a claim transaction of its own. `claimed` are leased to
   * the engine whether or not the outcome was applied.
   */
  settleAndClaim?(job: J, owner: string, outcome: O, claim: JobClaim): Promise<{ applied: boolean; claimed: J[] }>
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
  /**
   * How often to look for due jobs when nothing wakes the engine (other processes' work), right
   * after work or a wake. Default 1000 ms.
   */
  pollMs?: number
  /**
   * While claims find nothing, the poll interval doubles from `pollMs` up to this (default
   * DEFAULT_IDLE_POLL_MAX_MS); a wake or work starts it again at `pollMs`, and a job due sooner
   * (`nextDueAt`) ends the sleep when it is due. Bounds how late other processes' work is noticed
   * when no signal carries it (SQLite beside a CLI, a lost LISTEN connection).
   */
  idlePollMaxMs?: number
  /** The idle wait; tests pass one that records what the engine sleeps. */
  sleep?: IdleSleep
  owner?: string
  /**
   * What `stop()` does with runs in flight: `abort` them and hand their jobs back (downloads that
   * may take minutes), or let them `finish` (deliveries bounded by their own timeout).
   */
  onStop?: 'abort' | 'finish'
}

/** What the loop sleeps on: resolves true when woken, false when the time ran out. */
export interface IdleSleep {
  sleep(ms: number): Promise<boolean>
  wake(): void
}

/** The longest idle poll interval unless configured (MEDIAGATE_IDLE_POLL_MAX_MS). */
export const DEFAULT_IDLE_POLL_MAX_MS = 10_000

type State = 'created' | 'running' | 'stopping' | 'stopped'

/** Longest a freed slot waits for others to free up before it is refilled on its own. */
const CLAIM_BATCH_WAIT_MS = 20
const SETTLE_TRIES = 3
/** Retry times remembered (`retryAt`); past this many, the latest are left to the poll. */
const MAX_RETRY_TIMES = 256

export class JobEngine<J, O> {
  readonly owner: string
  private state: State = 'created'
  private readonly active = new Map<string, AbortController>()
  /** Runs in flight with their settlements (and the runs those settlements claimed). */
  private readonly runs = new Set<Promise<void>>()
  /** Slots a settlement in flight is claiming jobs for (`settleAndClaim`): not free for the loop. */
  private reserved = 0
  /** A claim is a write transaction (an fsync on SQLite): slots are refilled in batches of at least this many. */
  private readonly batchMin: number
  private lastClaimAt = 0
  private readonly idle: IdleSleep
  private loopDone: Promise<void> | undefined
  private renewTimer: NodeJS.Timeout | undefined
  /** Future due times of retries this engine settled (kinds with `retryAt`), ascending. */
  private retryTimes: number[] = []

  constructor(
    private readonly kind: JobKind<J, O>,
    private readonly options: JobEngineOptions,
  ) {
    this.owner = options.owner ?? `${kind.name}-${process.pid}-${randomUUID().slice(0, 8)}`
    this.batchMin = Math.max(1, Math.floor(options.concurrency / 4))
    this.idle = options.sleep ?? new WakeableSleep()
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
    const { concurrency, logger } = this.options
    const pollMs = this.options.pollMs ?? 1000
    const idlePollMaxMs = Math.max(pollMs, this.options.idlePollMaxMs ?? DEFAULT_IDLE_POLL_MAX_MS)
    let errorDelay = 0
    // The next idle poll interval: pollMs after work or a wake, doubled after each idle round.
    let idleMs = pollMs
    // Refill in batches, not slot by slot, unless the engine is idle or a little time has passed
    // since the last claim. A kind that claims with its settlements refills there first: the loop
    // claims a partial batch only if no settlement did within twice the wait.
    const batchWaitMs = this.kind.settleAndClaim ? 2 * CLAIM_BATCH_WAIT_MS : CLAIM_BATCH_WAIT_MS
    while (this.state === 'running') {
      let claimed = 0
      const free = concurrency - this.active.size - this.reserved
      const waited = Date.now() - this.lastClaimAt
      if (free > 0 && free < this.batchMin && this.active.size > 0 && waited < batchWaitMs) {
        await this.idle.sleep(batchWaitMs - waited)
        continue
      }
      if (free > 0) {
        this.lastClaimAt = Date.now()
        try {
          const batch = await this.kind.claim(this.claimOptions(free))
          claimed = batch.length
          errorDelay = 0
          for (const job of batch) this.launch(job)
        } catch (err) {
          errorDelay = Math.min(30_000, Math.max(500, errorDelay * 2))
          logger.error({ err: toMediagateError(err, 'catalog'), kind: this.kind.name }, `claiming ${this.kind.name} jobs failed; retrying in ${errorDelay} ms`)
        }
      }
      if (this.state !== 'running') break
      // A full batch means more work is probably waiting: claim again as soon as a slot frees.
      if (claimed > 0 && claimed === free) continue
      const busy = claimed > 0 || this.active.size > 0 || this.runs.size > 0
      if (busy) idleMs = pollMs
      const woken = await this.idle.sleep(errorDelay || (await this.untilNextDue(idleMs)))
      // Idle and nothing woke it: look again later, up to the bound. A wake says work may be there.
      idleMs = woken ? pollMs : busy ? idleMs : Math.min(idlePollMaxMs, idleMs * 2)
    }
    // A settlement in flight may still start the runs it claimed: wait for those too.
    while (this.runs.size > 0) await Promise.allSettled([...this.runs])
  }

  private launch(job: J): void {
    const run = this.run(job).finally(() => {
      this.runs.delete(run)
      this.wake()
    })
    this.runs.add(run)
  }

  /** `intervalMs`, or less when a job is due sooner. */
  private async untilNextDue(intervalMs: number): Promise<number> {
    const now = Date.now()
    // Times passed were claimed (or found not due, or taken by another process) just before.
    while (this.retryTimes.length > 0 && this.retryTimes[0]! <= now) this.retryTimes.shift()
    if (this.retryTimes.length > 0) intervalMs = Math.min(intervalMs, this.retryTimes[0]! - now)
    // Runs in flight wake the loop as they end: with a batch of them, one ends soon enough.
    if (!this.kind.nextDueAt || this.active.size >= this.batchMin) return intervalMs
    try {
      const next = await this.kind.nextDueAt()
      if (!next) return intervalMs
      return Math.min(intervalMs, Math.max(0, next.getTime() - Date.now()))
    } catch {
      return intervalMs
    }
  }

  /** One span per job (named for its kind) when tracing, around the run and the settlement; then the jobs the settlement claimed. */
  private async run(job: J): Promise<void> {
    const claimed = await inJobSpan(this.kind.name, () => this.kind.trace?.(job), () => this.runAndSettle(job))
    if (claimed.length === 0) return
    // Their slots stay reserved until they are active (launch marks them so at once).
    if (this.state === 'running') for (const next of claimed) this.launch(next)
    this.reserved -= claimed.length
    if (this.state !== 'running') await Promise.allSettled(claimed.map((next) => this.handBackUnstarted(next)))
  }

  /** A job claimed with a settlement after the engine began to stop: due again now, its attempt refunded. */
  private async handBackUnstarted(job: J): Promise<void> {
    const log = this.options.logger.child(this.kind.logFields?.(job) ?? { kind: this.kind.name, jobId: this.kind.id(job) })
    await this.settle(job, this.kind.handBack(job, new MediagateError('network', `the ${this.kind.name} engine is stopping`)), log, false)
  }

  private async runAndSettle(job: J): Promise<J[]> {
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
    return inSpan('settle', () => this.settle(job, outcome, log, true))
  }

  /**
   * Settles the outcome; with `refill`, claims jobs for the free slots in the same round trip when
   * the kind can, and returns them with their slots still reserved (the caller launches them).
   */
  private async settle(job: J, outcome: O, log: Logger, refill: boolean): Promise<J[]> {
    let result: { applied: boolean; claimed: J[] } | undefined
    for (let attempt = 1; attempt <= SETTLE_TRIES && !result; attempt++) {
      const limit = refill && this.kind.settleAndClaim && this.state === 'running' ? this.refillLimit() : 0
      this.reserved += limit
      try {
        result = limit > 0 ? await this.kind.settleAndClaim!(job, this.owner, outcome, this.claimOptions(limit)) : { applied: await this.kind.settle(job, this.owner, outcome), claimed: [] }
      } catch (err) {
        log.error({ err: toMediagateError(err, 'catalog') }, `settling failed (try ${attempt} of ${SETTLE_TRIES})`)
        if (attempt < SETTLE_TRIES) await new Promise((r) => setTimeout(r, 200 * attempt))
      } finally {
        this.reserved -= limit - (result?.claimed.length ?? 0)
      }
    }
    // Not settled: the lease expires and the job is claimed again (an unsettled attempt: it counts towards the crash limit).
    if (!result) return []
    if (result.applied) {
      this.rememberRetry(outcome)
      try {
        this.kind.settled?.(job, outcome, log)
      } catch (err) {
        log.error({ err: toMediagateError(err) }, `observing a settled ${this.kind.name} job failed`)
      }
    } else {
      log.warn(`the lease was lost before settling: the job was deleted, or another ${this.kind.name} engine owns it now`)
      await this.afterRefusal(job, outcome, log)
    }
    return result.claimed
  }

  private rememberRetry(outcome: O): void {
    const at = this.kind.retryAt?.(outcome)?.getTime()
    if (at === undefined || at <= Date.now()) return
    const times = this.retryTimes
    let i = times.length
    while (i > 0 && times[i - 1]! > at) i--
    if (times[i - 1] === at) return
    times.splice(i, 0, at)
    if (times.length > MAX_RETRY_TIMES) times.pop()
  }

  /** How many jobs a settlement claims: the free slots, by the loop's batching rule (none when too few). */
  private refillLimit(): number {
    const free = this.options.concurrency - this.active.size - this.reserved
    if (free <= 0) return 0
    if (free < this.batchMin && this.active.size > 0 && Date.now() - this.lastClaimAt < CLAIM_BATCH_WAIT_MS) return 0
    this.lastClaimAt = Date.now()
    return free
  }

  private claimOptions(limit: number): JobClaim {
    return { owner: this.owner, limit, leaseMs: this.options.leaseMs, crashLimit: this.options.crashLimit }
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
