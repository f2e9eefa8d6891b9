/**
 * A writable over an open FileHandle that fsyncs in `final`: 'finish' (and so `pipeline`)
 * happens only once every byte is on stable storage. The caller opens and closes the handle.
 *
 * A large file is also flushed while it downloads: every `flushEveryBytes` an fdatasync starts
 * in the background (one at a time per file). Otherwise the kernel keeps the whole file dirty in
 * the page cache until the final fsync, and a 100 MB video is downloaded first and then written
 * out, one after the other; flushing as it goes overlaps the two, and the final fsync only has
 * the tail left. Durability does not depend on these: `final` still fsyncs everything.
 */
import type { FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'

export interface FileSinkOptions {
  /** Start a background fdatasync after this many bytes since the last one. Default 8 MiB. */
  flushEveryBytes?: number
}

export function fileSink(handle: FileHandle, options: FileSinkOptions = {}): Writable {
  const flushEvery = options.flushEveryBytes ?? 8 * 1024 * 1024
  let unflushed = 0
  let flushing: Promise<void> | undefined
  let flushError: unknown

  const wrote = (bytes: number) => {
    unflushed += bytes
    if (unflushed < flushEvery || flushing) return
    unflushed = 0
    flushing = handle.datasync().then(
      () => {
        flushing = undefined
      },
      (err: unknown) => {
        flushError ??= err
        flushing = undefined
      },
    )
  }
  const write = async (chunks: Buffer[]) => {
    if (flushError) throw flushError
    await writeAll(handle, chunks)
    wrote(chunks.reduce((n, c) => n + c.length, 0))
  }

  return new Writable({
    // Network chunks are small (16–64 KiB); a 256 KiB buffer lets writev send several per call
    // while keeping each put's memory small.
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      write([chunk]).then(() => callback(), callback)
    },
    writev(chunks, callback) {
      write(chunks.map((c) => c.chunk as Buffer)).then(() => callback(), callback)
    },
    final(callback) {
      const done = async () => {
        await flushing
        if (flushError) throw flushError
        await handle.sync()
      }
      done().then(() => callback(), callback)
    },
  })
}

async function writeAll(handle: FileHandle, chunks: Buffer[]): Promise<void> {
  let pending = chunks.filter((c) => c.length > 0)
  // writev(2) on a regular file may be short (a signal, a full quota); each call makes progress or throws.
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending)
    if (bytesWritten <= 0) throw new Error('write made no progress')
    pending = dropWritten(pending, bytesWritten)
  }
}

function dropWritten(chunks: Buffer[], written: number): Buffer[] {
  let i = 0
  let left = written
  while (i < chunks.length && left >= chunks[i]!.length) left -= chunks[i++]!.length
  const rest = chunks.slice(i)
  if (left > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(left)
  return rest
}
