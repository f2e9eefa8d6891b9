/**
 * Where a disk put's bytes go while they arrive. Small blobs stay in memory (up to
 * `memoryLimit`) and are written, fsynced and moved into place in one step on a durable-write
 * thread (durable-writer.ts): for a photo, a dozen thread-pool round trips cost more than the
 * bytes. Bytes that outgrow the limit spill to the temp file, which is fsynced in `final`:
 * 'finish' (and so `pipeline`) happens only once every byte is on stable storage.
 *
 * A large file is also flushed while it downloads: every `flushEveryBytes` an fdatasync starts
 * in the background (one at a time per file). Otherwise the kernel keeps the whole file dirty in
 * the page cache until the final fsync, and a 100 MB video is downloaded first and then written
 * out, one after the other; flushing as it goes overlaps the two, and the final fsync only has
 * the tail left. Durability does not depend on these: `final` still fsyncs everything.
 */
import type { FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'

export interface BlobSinkOptions {
  /** Opens the temp file, the first time bytes go to it. */
  open: () => Promise<FileHandle>
  /** Bytes held in memory before spilling to the file; 0 writes everything to the file. */
  memoryLimit?: number
  /** Start a background fdatasync after this many bytes since the last one. Default 8 MiB. */
  flushEveryBytes?: number
}

export class BlobSink extends Writable {
  /** The bytes, when they all fit in memory (after 'finish'); undefined once spilled. */
  memory: Buffer[] | undefined = []
  private held = 0
  private handle: FileHandle | undefined
  private readonly flushEvery: number
  private unflushed = 0
  private flushing: Promise<void> | undefined
  private flushError: unknown

  constructor(private readonly options: BlobSinkOptions) {
    // Network chunks are small (16–64 KiB); a 256 KiB buffer lets writev send several per call
    // while keeping each put's memory small.
    super({ highWaterMark: 256 * 1024 })
    this.flushEvery = options.flushEveryBytes ?? 8 * 1024 * 1024
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    // A photo's chunks only go to memory: no promise per chunk for that.
    if (this.keep(chunk.length)) {
      this.memory!.push(chunk)
      callback()
      return
    }
    this.take([chunk]).then(() => callback(), callback)
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    this.take(chunks.map((c) => c.chunk)).then(() => callback(), callback)
  }

  /** True (and counted) when `bytes` more still fit in memory. */
  private keep(bytes: number): boolean {
    if (this.flushError || !this.memory || this.held + bytes > (this.options.memoryLimit ?? 0)) return false
    this.held += bytes
    return true
  }

  override _final(callback: (err?: Error | null) => void): void {
    const finish = async () => {
      if (!this.handle) return
      await this.flushing
      if (this.flushError) throw this.flushError
      await this.handle.sync()
      await this.closeFile()
    }
    finish().then(() => callback(), callback)
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.closeFile().then(
      () => callback(err),
      () => callback(err),
    )
  }

  private async take(chunks: Buffer[]): Promise<void> {
    if (this.flushError) throw this.flushError
    const bytes = chunks.reduce((n, c) => n + c.length, 0)
    if (this.memory && this.held + bytes <= (this.options.memoryLimit ?? 0)) {
      this.memory.push(...chunks)
      this.held += bytes
      return
    }
    if (!this.handle) {
      this.handle = await this.options.open()
      chunks = [...(this.memory ?? []), ...chunks]
      this.memory = undefined
    }
    await writeAll(this.handle, chunks)
    this.wrote(bytes)
  }

  private wrote(bytes: number): void {
    this.unflushed += bytes
    if (this.unflushed < this.flushEvery || this.flushing || !this.handle) return
    this.unflushed = 0
    this.flushing = this.handle.datasync().then(
      () => {
        this.flushing = undefined
      },
      (err: unknown) => {
        this.flushError ??= err
        this.flushing = undefined
      },
    )
  }

  private async closeFile(): Promise<void> {
    const handle = this.handle
    this.handle = undefined
    if (!handle) return
    await this.flushing?.catch(() => {})
    await handle.close()
  }
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
