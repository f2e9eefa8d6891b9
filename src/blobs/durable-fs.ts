/**
 * The few filesystem steps that make a write survive a power cut: a rename is durable only once
 * its directory is fsynced, and a directory just created only once its parent is.
 */
import { closeSync, close as closeCb, fsyncSync, fsync as fsyncCb, mkdirSync, openSync, open as openCb } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'

export async function fsyncDirectory(dir: string): Promise<void> {
  // Callback fs: this runs for every put, and a FileHandle adds promise machinery to each of
  // its three thread-pool round trips.
  const fd = await new Promise<number>((resolve, reject) => openCb(dir, 'r', (err, fd) => (err ? reject(err) : resolve(fd))))
  try {
    await new Promise<void>((resolve, reject) => fsyncCb(fd, (err) => (err ? reject(err) : resolve())))
  } finally {
    await new Promise<void>((resolve) => closeCb(fd, () => resolve()))
  }
}

/** `mkdir -p` that also fsyncs the parent of every directory it created. */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true })
  if (first !== undefined) for (const d of parentsToSync(dir, first)) await fsyncDirectory(d)
}

/**
 * `first` is the top-most directory `mkdir -p` created; every directory from its parent down to
 * `dir`'s parent gained an entry, top first.
 */
function parentsToSync(dir: string, first: string): string[] {
  const chain: string[] = []
  for (let d = dir; ; d = path.dirname(d)) {
    chain.push(path.dirname(d))
    if (d === first || path.dirname(d) === d) break
  }
  return chain.reverse()
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code
}

/** `fsyncDirectory`, synchronously: for the durable-write thread, where blocking is the point. */
export function fsyncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** `mkdirDurable`, synchronously. */
export function mkdirDurableSync(dir: string): void {
  const first = mkdirSync(dir, { recursive: true })
  if (first !== undefined) for (const d of parentsToSync(dir, first)) fsyncDirectorySync(d)
}
