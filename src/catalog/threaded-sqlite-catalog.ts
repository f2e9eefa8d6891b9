/**
 * The SQLite catalog on a worker thread, for the gateway: every Catalog method is forwarded to
 * sqlite-thread.ts and answered there, so commits and their fsyncs no longer stall the event
 * loop that parses webhooks and streams media. Semantics are the SqliteCatalog's own: the same
 * object runs the same plans, one call at a time; only the thread differs.
 */
import { Worker } from 'node:worker_threads'
import { MediagateError } from '../errors.js'
import type { Catalog, IncomingWebhook } from './catalog.js'
import { type CompactRecorded, expandRecorded } from './recorded-reply.js'
import { SqliteReader, UNANSWERED } from './sqlite-reader.js'
import { isThreadMethod, reviveBuffers, type ThreadArgs, type ThreadCall, type ThreadMethod, type ThreadReply } from './thread-messages.js'
import { workerScript } from '../util/worker-script.js'

/** Background checkpoints (sqlite-checkpointer.ts) run this often. */
const CHECKPOINT_INTERVAL_MS = 250
/** The committing connection checkpoints only if the WAL grows past this (~40 MB): a safety net. */
const SAFETY_NET_CHECKPOINT_PAGES = 10_000

function script(name: string): URL {
  return workerScript(new URL(`./${name}`, import.meta.url), new URL(`../../dist/catalog/${name}`, import.meta.url))
}

export function openThreadedSqliteCatalog(options: { path: string; busyTimeoutMs?: number }): Catalog {
  const worker = new Worker(script('sqlite-thread.js'), { workerData: { ...options, walAutocheckpointPages: SAFETY_NET_CHECKPOINT_PAGES } })
  worker.unref()
  const checkpointer = new Worker(script('sqlite-checkpointer.js'), { workerData: { path: options.path, intervalMs: CHECKPOINT_INTERVAL_MS } })
  checkpointer.unref()
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  let nextId = 0
  let exited: Error | undefined
  const failAll = (err: Error) => {
    exited = err
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }
  worker.on('message', (reply: ThreadReply) => {
    const p = pending.get(reply.id)
    if (!p) return
    pending.delete(reply.id)
    if (reply.error) {
      const { code, message, ...rest } = reply.error
      p.reject(new MediagateError(code, message, { status: rest.status, retryable: rest.retryable, ...(rest.vendorCode !== undefined ? { vendorCode: rest.vendorCode } : {}) }))
    } else p.resolve(reviveBuffers(reply.result))
  })
  worker.on('error', (err) => failAll(new MediagateError('catalog', `the SQLite thread failed: ${err.message}`, { cause: err })))
  worker.on('exit', () => failAll(new MediagateError('catalog', 'the SQLite thread has stopped')))

  const call = <M extends ThreadMethod>(method: M, args: ThreadArgs[M]): Promise<unknown> => {
    if (exited) return Promise.reject(exited)
    const id = nextId++
    worker.ref()
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      const message: ThreadCall<M> = { id, method, args }
      worker.postMessage(message)
    }).finally(() => {
      if (pending.size === 0) worker.unref()
    })
  }

  const reader = new SqliteReader(options.path)
  const get = async (id: string) => {
    const answer = exited ? UNANSWERED : reader.get(id)
    return answer === UNANSWERED ? call('get', [id]) : answer
  }

  // The thread answers ids and positions, not records (recorded-reply.ts).
  const recordWebhooks = async (batch: IncomingWebhook[]) => expandRecorded(batch, (await call('recordWebhooks', [batch])) as CompactRecorded[])

  return new Proxy({} as Catalog, {
    get(_target, prop) {
      if (prop === 'dialect') return 'sqlite'
      // Not a method the thread answers (`then` included, so the proxy is not taken for a promise).
      if (typeof prop !== 'string' || !isThreadMethod(prop)) return undefined
      if (prop === 'get') return get
      if (prop === 'recordWebhooks') return recordWebhooks
      if (prop === 'close') {
        return async () => {
          reader.close()
          await checkpointer.terminate()
          if (exited) return
          try {
            await call('close', [])
          } finally {
            // Also when the catalog never opened: the thread goes either way.
            await worker.terminate()
          }
        }
      }
      return (...args: ThreadArgs[typeof prop]) => call(prop, args)
    },
  })
}
