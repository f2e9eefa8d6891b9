/**
 * The capture worker: claims due media records with a lease, captures several at once, keeps
 * the leases alive while downloads run, and settles each outcome. A worker that dies leaves
 * leases that expire, and any worker (this process restarted, or another) takes the jobs over.
 *
 * States: created → running → stopping → stopped. `stop()` stops claiming, aborts downloads in
 * flight and hands their jobs back as due now, so a restart picks them up without waiting.
 */
import { randomUUID } from 'node:crypto'
import type { Catalog, Settlement } from '../catalog/catalog.js'
import { MediagateError, toMediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'
import { decideAfterFailure, type RetryPolicy } from './retry-policy.js'
import { WakeableSleep } from '../util/wakeable-sleep.js'
import { GroupCommit } from '../util/group-commit.js'

export type CaptureFn = (media: MediaRecord, signal: AbortSignal) => Promise<Settlement>

export interface WorkerOptions {
  catalog: Catalog
  capture: CaptureFn
  logger: Logger
  concurrency: number
  leaseMs: number
  retry: RetryPolicy
  /** How often to look for due jobs when nothing wakes us (other processes' webhooks, retries). */
  pollMs?: number
  owner?: string
  /** Observes each settled job (metrics, forwarding, tests). */
  onSettled?: (media: MediaRecord, settlement: Settlement) => void
}

type State = 'created' | 'running' | 'stopping' | 'stopped'

/** Longest a freed slot waits for others to free up before it is refilled on its own. */
const CLAIM_BATCH_WAIT_MS = 20

export class CaptureWorker {
  readonly owner: string
  private state: State = 'created'
  private readonly active = new Map<string, AbortController>()
  private readonly idle = new WakeableSleep()
  private loopDone: Promise<void> | undefined
  private renewTimer: NodeJS.Timeout | undefined

  /** Outcomes that finish together share one transaction (and one fsync). */
  private readonly settles: GroupCommit<{ id: string; owner: string; settlement: Settlement }, boolean>

  constructor(private readonly options: WorkerOptions) {
    this.owner = options.owner ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`
    this.settles = new GroupCommit((items) => options.catalog.settleMany(items))
  }

  get running(): boolean {
    return this.state === 'running'
  }

  get inFlight(): number {
    return this.active.size
  }

  start(): void {
    if (this.state !== 'created') throw new MediagateError('conflict', `worker is ${this.state}`)
    this.state = 'running'
    this.loopDone = this.loop()
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(1000, Math.floor(this.options.leaseMs / 3)))
    this.renewTimer.unref()
  }

  /** Something became due (a webhook was recorded, a retry was requested). */
  wake(): void {
    this.idle.wake()
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'created') {
      this.state = 'stopped'
      return
    }
    this.state = 'stopping'
    clearInterval(this.renewTimer)
    for (const controller of this.active.values()) controller.abort(new MediagateError('network', 'the worker is stopping'))
    this.wake()
    await this.loopDone
    this.state = 'stopped'
  }

  private async loop(): Promise<void> {
    const { catalog, concurrency, logger } = this.options
    const pollMs = this.options.pollMs ?? 1000
    let errorDelay = 0
    const jobs = new Set<Promise<void>>()
    // Claiming is a write transaction (an fsync on SQLite): refill in batches, not slot by slot,
    // unless the worker is idle or a little time has passed since the last claim.
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
          const batch = await catalog.claim({ owner: this.owner, limit: free, leaseMs: this.options.leaseMs })
          claimed = batch.length
          errorDelay = 0
          for (const media of batch) {
            const job = this.run(media).finally(() => {
              jobs.delete(job)
              this.wake()
            })
            jobs.add(job)
          }
        } catch (err) {
          errorDelay = Math.min(30_000, Math.max(500, errorDelay * 2))
          logger.error({ err: toMediagateError(err, 'catalog') }, `claiming jobs failed; retrying in ${errorDelay} ms`)
        }
      }
      if (this.state !== 'running') break
      // A full batch means more work is probably waiting: claim again as soon as a slot frees.
      if (claimed > 0 && claimed === free) continue
      await this.idle.sleep(errorDelay || (await this.untilNextDue(pollMs)))
    }
    await Promise.allSettled([...jobs])
  }

  private async untilNextDue(pollMs: number): Promise<number> {
    if (this.active.size >= this.options.concurrency) return pollMs
    try {
      const next = await this.options.catalog.nextDueAt()
      if (!next) return pollMs
      return Math.min(pollMs, Math.max(0, next.getTime() - Date.now()))
    } catch {
      return pollMs
    }
  }


  private async run(media: MediaRecord): Promise<void> {
    const { logger } = this.options
    const controller = new AbortController()
    this.active.set(media.id, controller)
    const log = logger.child({ mediaId: media.id, platform: media.platform, attempt: media.attempts })
    let settlement: Settlement
    try {
      settlement = await this.options.capture(media, controller.signal)
    } catch (err) {
      const error = toMediagateError(controller.signal.aborted ? (controller.signal.reason ?? err) : err)
      settlement = this.state === 'running' ? decideAfterFailure(error, media, this.options.retry) : handBack(error)
      if (error.code === 'internal') log.error({ err }, 'capture failed unexpectedly')
    } finally {
      this.active.delete(media.id)
    }
    await this.settle(media, settlement, log)
  }

  private async settle(media: MediaRecord, settlement: Settlement, log: Logger): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const applied = await this.settles.submit({ id: media.id, owner: this.owner, settlement })
        if (!applied) log.warn('lease lost before settling; another worker owns the job now')
        else logSettlement(log, settlement)
        if (applied) this.options.onSettled?.(media, settlement)
        return
      } catch (err) {
        log.error({ err: toMediagateError(err, 'catalog') }, `settling failed (try ${attempt} of 3)`)
        await new Promise((r) => setTimeout(r, 200 * attempt))
      }
    }
    // The lease will expire and the job run again; a stored blob is found by its hash then.
  }

  private async renewLeases(): Promise<void> {
    const ids = [...this.active.keys()]
    if (ids.length === 0) return
    try {
      const renewed = new Set(await this.options.catalog.renewLeases(ids, this.owner, this.options.leaseMs))
      for (const id of ids) {
        if (!renewed.has(id)) this.active.get(id)?.abort(new MediagateError('conflict', 'lease lost to another worker'))
      }
    } catch (err) {
      this.options.logger.warn({ err: toMediagateError(err, 'catalog') }, 'renewing leases failed')
    }
  }
}

function handBack(error: MediagateError): Settlement {
  return { status: 'retry', error: { code: error.code, message: error.message }, nextAttemptAt: new Date() }
}

function logSettlement(log: Logger, s: Settlement): void {
  if (s.status === 'stored') log.info({ size: s.size, sha256: s.sha256 }, 'media stored')
  else if (s.status === 'retry') log.warn({ code: s.error.code, nextAttemptAt: s.nextAttemptAt }, `capture will be retried: ${s.error.message}`)
  else log.warn({ code: s.error.code }, `capture failed: ${s.error.message}`)
}
