/**
 * Worker-thread entry of the durable writer (durable-writer.ts). Each message finishes one disk
 * put: write and fsync the temp file when its bytes came along, then move it into place as the
 * async path used to (same name and size already there: drop the temp file; otherwise mkdir -p
 * durably, rename, fsync the directory). Synchronous calls on this thread are the point: a dozen
 * steps cost one message each way instead of a thread-pool round trip each.
 */
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import path from 'node:path'
import { parentPort } from 'node:worker_threads'
import { fsyncDirectorySync, mkdirDurableSync } from './durable-fs.js'

export interface FinishRequest {
  id: number
  tmp: string
  file: string
  size: number
  /** The whole blob, when it was small enough to stay in memory; else `tmp` is written already. */
  bytes?: Uint8Array[]
}

export interface FinishReply {
  id: number
  existed?: boolean
  error?: { message: string; code?: string }
}

const port = parentPort
if (!port) throw new Error('durable-write-thread.js runs as a worker thread only')

port.on('message', (req: FinishRequest) => {
  try {
    port.postMessage({ id: req.id, existed: finish(req) } satisfies FinishReply)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    port.postMessage({ id: req.id, error: { message: e.message, ...(e.code ? { code: e.code } : {}) } } satisfies FinishReply)
  }
})

function finish(req: FinishRequest): boolean {
  if (req.bytes) writeDurably(req.tmp, req.bytes)
  // Absent is the usual answer for a new blob: no error (and its stack trace) made for it.
  const existing = statSync(req.file, { throwIfNoEntry: false })
  // Same name means same bytes; a different size means the old file is damaged, so replace it.
  if (existing?.isFile() && existing.size === req.size) {
    unlinkSync(req.tmp)
    return true
  }
  const dir = path.dirname(req.file)
  mkdirDurableSync(dir)
  renameSync(req.tmp, req.file)
  fsyncDirectorySync(dir)
  return false
}

function writeDurably(file: string, chunks: Uint8Array[]): void {
  const fd = openSync(file, 'wx', 0o644)
  try {
    for (const chunk of chunks) {
      // write(2) on a regular file may be short; each call makes progress or throws.
      for (let offset = 0; offset < chunk.length; ) {
        const n = writeSync(fd, chunk, offset, chunk.length - offset)
        if (n <= 0) throw new Error('write made no progress')
        offset += n
      }
    }
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
