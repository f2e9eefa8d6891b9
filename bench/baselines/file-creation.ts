/**
 * The disk's file-creation ceiling: create a small file, write it, fsync it, rename it into place
 * and fsync the directory — what storing one blob durably costs at the least, before any HTTP or
 * database work. Run one at a time and with `concurrency` in flight. Also the disk's sequential
 * write bandwidth with fsync, the ceiling for large files.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises'
import path from 'node:path'

export interface CreationResult {
  files: number
  elapsedMs: number
}

/** Writes `name` the way a blob is committed: temp file, fsync, rename (and the directory's fsync). */
export async function durableWrite(dir: string, name: string, bytes: Buffer, syncDir: boolean): Promise<void> {
  const final = path.join(dir, name)
  const file = await open(`${final}.tmp`, 'w')
  try {
    await file.writeFile(bytes)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(`${final}.tmp`, final)
  if (syncDir) {
    const d = await open(dir, 'r')
    try {
      await d.sync()
    } finally {
      await d.close()
    }
  }
}

export async function fileCreationCeiling(dir: string, o: { count: number; size: number; concurrency: number; maxMs: number }): Promise<CreationResult> {
  await mkdir(dir, { recursive: true })
  const bytes = Buffer.alloc(o.size, 0x5a)
  const start = performance.now()
  let next = 0
  let files = 0
  const lane = async () => {
    while (next < o.count && performance.now() - start < o.maxMs) {
      await durableWrite(dir, `f${next++}`, bytes, true)
      files++
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, lane))
  const elapsedMs = performance.now() - start
  await rm(dir, { recursive: true, force: true })
  return { files, elapsedMs }
}

/** Writes `files` × `size` bytes in parallel in 1 MiB chunks, fsyncing each file at the end. */
export async function writeBandwidth(dir: string, o: { files: number; size: number }): Promise<{ bytes: number; elapsedMs: number }> {
  await mkdir(dir, { recursive: true })
  const chunk = Buffer.alloc(1024 * 1024, 0xa5)
  const start = performance.now()
  await Promise.all(
    Array.from({ length: o.files }, async (_, i) => {
      const file = await open(path.join(dir, `w${i}`), 'w')
      try {
        for (let written = 0; written < o.size; written += chunk.length) await file.write(chunk, 0, Math.min(chunk.length, o.size - written))
        await file.sync()
      } finally {
        await file.close()
      }
    }),
  )
  const elapsedMs = performance.now() - start
  await rm(dir, { recursive: true, force: true })
  return { bytes: o.files * o.size, elapsedMs }
}
