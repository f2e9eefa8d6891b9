/**
 * The few filesystem steps that make a write survive a power cut: a rename is durable only once
 * its directory is fsynced, and a directory just created only once its parent is.
 */
import { mkdir, open } from 'node:fs/promises'
import path from 'node:path'

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
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
