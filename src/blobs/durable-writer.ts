/**
 * Finishes disk puts on a small pool of worker threads (durable-write-thread.ts), each finish a
 * run of synchronous calls there: write and fsync a small blob's temp file, stat the final path,
 * mkdir -p durably, rename, fsync the directory. Done with async fs on the main thread, that was
 * about a dozen thread-pool round trips per photo, each waking the event loop; the capture
 * profile showed them as the largest cost per small media after the downloads themselves.
 *
 * A finish blocks its thread for a couple of fsyncs, so there are a few threads; calls go to
 * the least busy one. The threads are unref'd and started on first use.
 */
import { Worker } from 'node:worker_threads'
import { workerScript } from '../util/worker-script.js'
import type { FinishReply, FinishRequest } from './durable-write-thread.js'

const SCRIPT = workerScript(new URL('./durable-write-thread.js', import.meta.url), new URL('../../dist/blobs/durable-write-thread.js', import.meta.url))

interface Thread {
  worker: Worker
  pending: Map<number, { resolve: (existed: boolean) => void; reject: (err: Error) => void }>
}

export type FinishJob = Omit<FinishRequest, 'id'>

export class DurableWriter {
  private readonly threads: (Thread | undefined)[]
  private nextId = 0

  constructor(threads = 3) {
    this.threads = Array.from({ length: Math.max(1, threads) }, () => undefined)
  }

  /** Resolves true when the blob already existed (the temp file was dropped). Errors keep their errno `code`. */
  finish(job: FinishJob): Promise<boolean> {
    const thread = this.leastBusy()
    const id = this.nextId++
    // One exact-size copy, then handed over rather than cloned: a structured clone would copy
    // every chunk's whole backing buffer (often a larger socket or pool buffer) once more.
    const bytes = job.bytes ? [joinBytes(job.bytes, job.size)] : undefined
    return new Promise<boolean>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject })
      thread.worker.ref()
      thread.worker.postMessage({ ...job, id, ...(bytes ? { bytes } : {}) } satisfies FinishRequest, bytes ? [bytes[0]!.buffer as ArrayBuffer] : [])
    })
  }

  private leastBusy(): Thread {
    let best = -1
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i]
      if (!t) return (this.threads[i] = this.start(i))
      if (best < 0 || t.pending.size < this.threads[best]!.pending.size) best = i
    }
    return this.threads[best]!
  }

  private start(slot: number): Thread {
    const thread: Thread = { worker: new Worker(SCRIPT), pending: new Map() }
    thread.worker.unref()
    thread.worker.on('message', (reply: FinishReply) => {
      const p = thread.pending.get(reply.id)
      if (!p) return
      thread.pending.delete(reply.id)
      if (thread.pending.size === 0) thread.worker.unref()
      if (reply.error) p.reject(Object.assign(new Error(reply.error.message), reply.error.code ? { code: reply.error.code } : {}))
      else p.resolve(reply.existed === true)
    })
    const fail = (err: Error) => {
      // The next call starts a fresh thread in this slot.
      if (this.threads[slot] === thread) this.threads[slot] = undefined
      for (const p of thread.pending.values()) p.reject(err)
      thread.pending.clear()
    }
    thread.worker.on('error', fail)
    thread.worker.on('exit', () => fail(new Error('the durable-write thread stopped')))
    return thread
  }
}

function joinBytes(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  if (offset !== size) throw new Error(`the blob has ${offset} bytes in memory, not the ${size} counted`)
  return out
}

let shared: DurableWriter | undefined

/** One pool per process, shared by every disk store (the threads are unref'd, never closed). */
export function sharedDurableWriter(): DurableWriter {
  return (shared ??= new DurableWriter())
}
