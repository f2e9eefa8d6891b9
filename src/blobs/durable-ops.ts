/**
 * The real filesystem calls of a group commit (durable-batch.ts), synchronous: they run on a
 * durable-write thread, where blocking is the point.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import type { DurableOps } from './durable-batch.js'
import { fsyncDirectorySync, isErrno } from './durable-fs.js'

export const durableOps: DurableOps = {
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
