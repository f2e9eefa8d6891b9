/**
 * Worker-thread entry for the threaded SQLite catalog: hosts a SqliteCatalog and runs the calls
 * the main thread sends, one at a time and in order. better-sqlite3 is synchronous, so a commit
 * and its fsync (synchronous = FULL) block the thread that runs them; here that thread is not
 * the one parsing requests and streaming downloads.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { isMediagateError, toMediagateError } from '../errors.js'
import { dispatch, isThreadMethod, reviveBuffers, type ThreadCall, type ThreadReply } from './thread-messages.js'
import { SqliteCatalog } from './sqlite-catalog.js'
import type { IncomingWebhook, RecordedWebhook } from './catalog.js'
import { compactRecorded } from './recorded-reply.js'

const port = parentPort
if (!port) throw new Error('sqlite-thread.js runs as a worker thread only')
const { path, busyTimeoutMs, walAutocheckpointPages } = workerData as { path: string; busyTimeoutMs?: number; walAutocheckpointPages?: number }

let catalog: SqliteCatalog | undefined
let openError: unknown
try {
  catalog = new SqliteCatalog({ path, ...(walAutocheckpointPages !== undefined ? { walAutocheckpointPages } : {}), ...(busyTimeoutMs !== undefined ? { busyTimeoutMs } : {}) })
} catch (err) {
  openError = err
}

let queue = Promise.resolve()
port.on('message', (call: ThreadCall) => {
  queue = queue.then(async () => {
    let reply: ThreadReply
    try {
      if (!catalog) throw openError
      if (!isThreadMethod(call.method) || !Array.isArray(call.args)) throw new Error(`the catalog has no method ${String(call.method)}`)
      reviveBuffers(call.args)
      const result = await dispatch(catalog, call.method, call.args)
      reply = { id: call.id, result: call.method === 'recordWebhooks' ? compactRecorded(...(call.args as [IncomingWebhook[]]), result as RecordedWebhook[]) : result }
    } catch (err) {
      const e = isMediagateError(err) ? err : toMediagateError(err, 'catalog')
      reply = { id: call.id, error: { code: e.code, message: e.message, vendorCode: e.vendorCode, status: e.status, retryable: e.retryable } }
    }
    port.postMessage(reply)
  })
})
