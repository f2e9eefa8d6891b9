/**
 * The few filesystem steps that make a write survive a power cut: a rename is durable only once
 * its directory is fsynced, and a directory just created only once its parent is.
 */
import { close as closeCb, fsync as fsyncCb, open as openCb } from 'node:fs'
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
  if (first === undefined) return
  // `first` is the top-most directory created; every directory from its parent down to `dir`
  // gained an entry.
  const chain: string[] = []
  for (let d = dir; ; d = path.dirname(d)) {
    chain.push(path.dirname(d))
    if (d === first || path.dirname(d) === d) break
  }
  for (const d of chain.reverse()) await fsyncDirectory(d)
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code
}
