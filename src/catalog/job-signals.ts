/**
 * "Work was queued": the signal that wakes idle job engines, so they can poll rarely without
 * noticing work late. The catalog methods that queue jobs (intake, requeues, retries, erasures
 * queueing Meta deletions, stores queueing derivations) emit their topics once they resolve,
 * i.e. once the work is committed, whoever called them: this process's engines hear it at once,
 * and on PostgreSQL every other process's too (postgres-job-signals.ts: NOTIFY, LISTEN).
 * A signal may be lost (a crash just after a commit, a dropped connection): the engines' bounded
 * idle poll still finds the work, only later.
 */
import type { Catalog } from './catalog.js'

/** Which engines a signal is for: capture, the forwarder, the task engines (derive, meta_delete). */
export type JobTopic = 'media' | 'forwards' | 'tasks'
export const JOB_TOPICS: readonly JobTopic[] = ['media', 'forwards', 'tasks']

/** The catalog methods that queue work, and for whom. */
const QUEUEING: Partial<Record<keyof Catalog, readonly JobTopic[]>> = {
  recordWebhooks: ['media', 'forwards'],
  requeue: ['media'],
  retryForwards: ['forwards'],
  resendForwards: ['forwards'],
  releaseInfected: ['forwards', 'tasks'],
  enqueueTasks: ['tasks'],
  markDeleted: ['tasks'],
  storeRemote: ['tasks'],
  recordOutbound: ['tasks'],
}

/** Carries signals to other processes (and back from them). */
export interface RemoteJobSignals {
  notify(topic: JobTopic): void
  /** Starts hearing other processes' signals; on a (re)connection every topic fires, for what was missed. */
  listen(onTopic: (topic: JobTopic) => void): void
  close(): Promise<void>
}

export class JobSignals {
  private readonly listeners = new Map<JobTopic, (() => void)[]>()

  constructor(private readonly remote?: RemoteJobSignals) {}

  /** Calls `fn` whenever work of `topic` may have been queued, here or (with a remote) elsewhere. */
  on(topic: JobTopic, fn: () => void): void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), fn])
  }

  /** Starts hearing other processes (a worker); a process that only queues work never listens. */
  listen(): void {
    this.remote?.listen((topic) => this.deliver(topic))
  }

  emit(topic: JobTopic): void {
    this.deliver(topic)
    this.remote?.notify(topic)
  }

  close(): Promise<void> {
    return this.remote?.close() ?? Promise.resolve()
  }

  private deliver(topic: JobTopic): void {
    for (const fn of this.listeners.get(topic) ?? []) fn()
  }
}

/** `catalog`, with the methods that queue work emitting their topics once they resolve. */
export function signallingCatalog(catalog: Catalog, signals: JobSignals): Catalog {
  const wrapped = new Map<PropertyKey, unknown>()
  return new Proxy(catalog, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      let fn = wrapped.get(prop)
      if (!fn) {
        const topics = QUEUEING[prop as keyof Catalog]
        const method = value as (...args: unknown[]) => unknown
        fn = topics
          ? async (...args: unknown[]) => {
              const result = await method.apply(target, args)
              for (const topic of topics) signals.emit(topic)
              return result
            }
          : method.bind(target)
        wrapped.set(prop, fn)
      }
      return fn
    },
  })
}
