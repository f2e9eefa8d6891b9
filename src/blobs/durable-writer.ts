/**
 * Finishes disk puts on a small pool of worker threads (durable-write-thread.ts): each thread
 * runs group commits of synchronous calls (durable-batch.ts): write and fdatasync the small
 * blobs' temp files, look for or rename each into place, then fsync every directory that gained
 * an entry once for the group. Done with async fs on the main thread, that was about a dozen
 * thread-pool round trips per photo, each waking the event loop.
 *
 * A blob goes to the thread that owns its first-level fan-out directory (`sha256/ab`): puts
 * sharing directories share their fsyncs, and only one thread of the process makes or syncs
 * the directories below it, so none can take a directory another has made but not yet synced
 * for durable. A few threads, because a group's file fdatasyncs run one after the other; the
 * threads are unref'd and started on first use. Measured (2-core VM, 50 KiB blobs, issue 19):
 * one or two threads cost no less CPU per blob than three (about 3/4 of it is the kernel's
 * fsync and fdatasync work, the same whatever the grouping, as nearly every blob has its own
 * leaf directory) but store fewer blobs a second: 125–160 against 160–380 in the capture probe.
 */
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { workerScript } from '../util/worker-script.js'
import type { FinishReply, FinishRequest } from './durable-batch.js'

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
    const thread = this.owner(job.file)
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

  /** The thread of `file`'s grandparent directory (for a blob, its first-level fan-out directory). */
  private owner(file: string): Thread {
    const slot = hash(path.dirname(path.dirname(file))) % this.threads.length
    return (this.threads[slot] ??= this.start(slot))
  }

  private start(slot: number): Thread {
    const thread: Thread = { worker: new Worker(SCRIPT), pending: new Map() }
    thread.worker.unref()
    thread.worker.on('message', (replies: FinishReply[]) => {
      for (const reply of replies) {
        const p = thread.pending.get(reply.id)
        if (!p) continue
        thread.pending.delete(reply.id)
        if (reply.error) p.reject(Object.assign(new Error(reply.error.message), reply.error.code ? { code: reply.error.code } : {}))
        else p.resolve(reply.existed === true)
      }
      if (thread.pending.size === 0) thread.worker.unref()
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

/** FNV-1a: spreads the 256 first-level directories evenly over the threads. */
function hash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
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
