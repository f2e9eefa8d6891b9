/**
 * A kind of task (catalog `Tasks`: background work on one media) as a JobKind of the one job
 * engine (jobs/ knows no catalog; this adapter does): claims lease due tasks of that kind, a run is the handler's work, a run that throws is
 * retried with backoff while the error is retryable and attempts remain, and a run cut short by
 * a stopping engine is handed back with its attempt refunded. A new kind of background work costs
 * a handler, not a copy of the loop.
 */
import type { TaskRecord, Tasks, TaskSettlement } from '../catalog/catalog.js'
import type { Logger } from '../logging/logger.js'
import { type BackoffPolicy, backoffDelay } from '../jobs/backoff.js'
import type { JobKind } from '../jobs/job-engine.js'

export interface TaskHandler {
  /** The task kind, as queued (`derive`, …). */
  kind: string
  /** Does the work; resolves when it is done (the task row goes), throws a MediagateError when not. */
  run(task: TaskRecord, signal: AbortSignal, log: Logger): Promise<void>
  /** Retryable failures are retried this many attempts in all, with backoff. */
  retry: BackoffPolicy & { maxAttempts: number }
  /** Observes a task given up (its error is on the row; the handler may record it elsewhere too). */
  failed?(task: TaskRecord, error: string, log: Logger): Promise<void>
}

export function taskJobs(catalog: Tasks, handler: TaskHandler): JobKind<TaskRecord, TaskSettlement> {
  const { kind, retry } = handler
  return {
    name: kind,
    id: (task) => task.id,
    logFields: (task) => ({ kind, taskId: task.id, mediaId: task.mediaId, attempt: task.attempts }),
    claim: (claim) => catalog.claimTasks({ ...claim, kind }),
    renew: (ids, owner, leaseMs) => catalog.renewTasks(ids, owner, leaseMs),
    nextDueAt: () => catalog.nextTaskDueAt(kind),
    async run(task, signal, log) {
      await handler.run(task, signal, log)
      return { status: 'done' }
    },
    afterError(task, error) {
      const message = `${error.code}: ${error.message}`
      if (!error.retryable || task.attempts >= retry.maxAttempts) return { status: 'failed', error: message }
      return { status: 'retry', error: message, dueAt: new Date(Date.now() + backoffDelay(task.attempts, retry)) }
    },
    handBack: (_task, error) => ({ status: 'retry', error: `${error.code}: ${error.message}`, dueAt: new Date(), refundAttempt: true }),
    settle: (task, owner, settlement) => catalog.settleTask(task.id, owner, settlement),
    settleAndClaim: (task, owner, settlement, claim) => catalog.settleTaskAndClaim(task.id, owner, settlement, { ...claim, kind }),
    settled(task, settlement, log) {
      if (settlement.status === 'retry') log.warn({ dueAt: settlement.dueAt }, `${kind} will be retried: ${settlement.error}`)
      else if (settlement.status === 'failed') {
        log.warn(`${kind} failed: ${settlement.error}`)
        void handler.failed?.(task, settlement.error, log).catch((err: unknown) => log.warn({ err }, `recording the failure of ${kind} failed`))
      }
    },
  }
}
