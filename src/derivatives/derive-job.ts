/**
 * Deriving as a task kind (jobs/task-jobs.ts): queued in the transaction that stores a media
 * (MEDIAGATE_DERIVE), by `mediagate derive`, and run by the worker's job engine at
 * MEDIAGATE_DERIVE_CONCURRENCY. A run derives the media unless it is complete already (made on
 * demand meanwhile, or deleted). Failures about the bytes are outcomes the deriver records on the
 * media; a task given up after its retries marks the media's derivatives failed with the reason.
 */
import type { Derivatives, MediaQueries, StoredOutcome } from '../catalog/catalog.js'
import { DERIVE_TASK } from '../catalog/task-plans.js'
import type { TaskHandler } from '../tasks/task-jobs.js'
import { plan } from './plan.js'
import type { SingleFlight } from './single-flight.js'

export { DERIVE_TASK }

export interface DeriveJobOptions {
  catalog: Pick<MediaQueries, 'get'> & Derivatives
  derivations: SingleFlight
}

export function deriveTaskHandler(options: DeriveJobOptions): TaskHandler {
  return {
    kind: DERIVE_TASK,
    retry: { maxAttempts: 5, baseDelayMs: 5000, maxDelayMs: 10 * 60_000 },
    async run(task, signal, log) {
      const media = await options.catalog.get(task.mediaId)
      if (!media || media.status !== 'stored') return
      const outcome = await options.derivations.derive(media, signal)
      if (outcome) log.info({ status: outcome.status, derived: outcome.ready.map((r) => r.name) }, outcome.error ? `derivatives ${outcome.status}: ${outcome.error}` : `derivatives ${outcome.status}`)
    },
    async failed(task, error) {
      await options.catalog.markDeriving([task.mediaId], 'failed', error)
    },
  }
}

/**
 * A stored outcome with the tasks its media is queued for (`tasks`: MEDIAGATE_DERIVE's list),
 * decided with the settlement: the derive task only when the deriver would make something of the
 * bytes. For bytes it would skip (a type it cannot decode; audio or video without ffmpeg) the
 * settlement records `skipped` with the deriver's own reason at once, instead of queueing a task
 * that is claimed, run and settled (three transactions) only to write the same thing.
 */
export function withStoredTasks(stored: StoredOutcome, tasks: readonly string[], deriver: { ffmpeg: unknown; stripMetadata: boolean }): StoredOutcome {
  if (tasks.length === 0) return stored
  const skip = tasks.includes(DERIVE_TASK) ? plan(stored, deriver).skip : undefined
  if (skip === undefined) return { ...stored, enqueue: [...tasks] }
  const others = tasks.filter((kind) => kind !== DERIVE_TASK)
  return { ...stored, ...(others.length > 0 ? { enqueue: others } : {}), deriveSkipped: skip }
}
