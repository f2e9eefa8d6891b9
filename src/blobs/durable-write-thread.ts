/**
 * Worker-thread entry of the durable writer (durable-writer.ts). Finishes that arrive while a
 * group is syncing wait in the port's queue; the next group takes them all (durable-batch.ts:
 * one fsync per directory for the whole group) and answers in one message. Synchronous calls on
 * this thread are the point: a dozen steps cost no thread-pool round trip each.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { type MessagePort, parentPort, receiveMessageOnPort } from 'node:worker_threads'
import { type DurableOps, DurableDirs, type FinishReply, type FinishRequest, finishGroup } from './durable-batch.js'
import { fsyncDirectorySync, isErrno } from './durable-fs.js'


if (!parentPort) throw new Error('durable-write-thread.js runs as a worker thread only')
const port: MessagePort = parentPort

const ops: DurableOps = {
  writeFile: writeDurably,
  fileSize(file) {
    // Absent is the usual answer for a new blob: no error (and its stack trace) made for it.
    const s = statSync(file, { throwIfNoEntry: false })
    return s?.isFile() ? s.size : undefined
  },
  unlink: unlinkSync,
  mkdir(dir) {
    try {
      mkdirSync(dir)
      return true
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false
      throw err
    }
  },
  mkdirp: (dir) => mkdirSync(dir, { recursive: true }),
  rename: renameSync,
  fsyncDir: fsyncDirectorySync,
}
const dirs = new DurableDirs()

port.on('message', (first: FinishRequest) => {
  // What arrives during a group's fsyncs is the next group.
  for (let group = drain([first]); group.length > 0; group = drain([])) {
    port.postMessage(finishGroup(group, ops, dirs) satisfies FinishReply[])
  }
})

/** `group` and every message already queued on the port after it. */
function drain(group: FinishRequest[]): FinishRequest[] {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) group.push(m.message as FinishRequest)
  return group
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
    // The data and the size, which is all a reader of the renamed file needs; the mtime can wait.
    fdatasyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
