/**
 * The few filesystem steps that make a write survive a power cut: a rename is durable only once
 * its directory is fsynced, and a directory just created only once its parent is.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { closeFd, fsyncFd, openFd } from './fd.js'

export async function fsyncDirectory(dir: string): Promise<void> {
  const fd = await openFd(dir, 'r')
  try {
    await fsyncFd(fd)
  } finally {
    await closeFd(fd)
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
export function parentsToSync(dir: string, first: string): string[] {
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
