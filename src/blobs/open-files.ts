/**
 * Descriptors of recently read blob files, kept open for a few seconds and shared by the reads
 * that arrive meanwhile. Serving small content is then one positioned read instead of open,
 * read and close: each of those is a round trip through libuv's thread pool, and on the serving
 * path they were half the cost of a request.
 *
 * Safe because blobs are immutable: a key names its bytes. What could go stale is a blob that
 * is deleted or replaced (a damaged file rewritten): this process calls `forget` when it does
 * either, and an unref'd sweep closes every descriptor older than `ttlMs`, so a deletion by
 * another process frees its disk space within about two `ttlMs`.
 */
import { closeFd, openFd, readFd } from './fd.js'
import { MediagateError } from '../errors.js'

interface Entry {
  fd: Promise<number>
  openedAt: number
  users: number
  retired: boolean
}

export interface OpenFilesOptions {
  /** Most descriptors held at once; the oldest goes first. Default 128. */
  maxOpen?: number
  /** How long a descriptor is reused. Default 5 s. */
  ttlMs?: number
}

export class OpenFiles {
  private readonly entries = new Map<string, Entry>()
  private readonly maxOpen: number
  private readonly ttlMs: number
  private sweeper: NodeJS.Timeout | undefined

  constructor(options: OpenFilesOptions = {}) {
    this.maxOpen = options.maxOpen ?? 128
    this.ttlMs = options.ttlMs ?? 5000
  }

  /**
   * Exactly `length` bytes of `file` from `start`. Fewer bytes than asked for means the file is
   * shorter than its record says: an error here, before any header is sent, not a truncated answer.
   */
  async read(file: string, start: number, length: number): Promise<Buffer> {
    const entry = this.acquire(file)
    try {
      const fd = await entry.fd
      const buffer = Buffer.allocUnsafe(length)
      let filled = 0
      while (filled < length) {
        const { bytesRead: n } = await readFd(fd, buffer, filled, length - filled, start + filled)
        if (n === 0) throw new MediagateError('storage', `the blob ends after ${start + filled} bytes, before the ${start + length} its record says`)
        filled += n
      }
      return buffer
    } catch (err) {
      // A failed open or read is not cached: the next request opens afresh.
      this.retire(file, entry)
      throw err
    } finally {
      this.release(entry)
    }
  }

  /** The file was deleted or replaced: stop reusing its descriptor. */
  forget(file: string): void {
    const entry = this.entries.get(file)
    if (entry) this.retire(file, entry)
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = undefined
    for (const [file, entry] of [...this.entries]) this.retire(file, entry)
  }

  private acquire(file: string): Entry {
    const now = Date.now()
    let entry = this.entries.get(file)
    if (entry && now - entry.openedAt > this.ttlMs) {
      this.retire(file, entry)
      entry = undefined
    }
    if (!entry) {
      entry = { fd: openFd(file, 'r'), openedAt: now, users: 0, retired: false }
      // An open that fails is handled by the read that awaits it; this only silences the copy.
      entry.fd.catch(() => {})
      this.entries.set(file, entry)
      if (this.entries.size > this.maxOpen) {
        const [oldest, oldestEntry] = this.entries.entries().next().value as [string, Entry]
        this.retire(oldest, oldestEntry)
      }
      this.startSweeper()
    }
    entry.users++
    return entry
  }

  private release(entry: Entry): void {
    entry.users--
    if (entry.retired && entry.users === 0) closeEntry(entry)
  }

  private retire(file: string, entry: Entry): void {
    if (entry.retired) return
    entry.retired = true
    if (this.entries.get(file) === entry) this.entries.delete(file)
    if (entry.users === 0) closeEntry(entry)
  }

  private startSweeper(): void {
    if (this.sweeper) return
    this.sweeper = setInterval(() => {
      const now = Date.now()
      for (const [file, entry] of [...this.entries]) if (now - entry.openedAt > this.ttlMs) this.retire(file, entry)
      if (this.entries.size === 0 && this.sweeper) {
        clearInterval(this.sweeper)
        this.sweeper = undefined
      }
    }, this.ttlMs)
    this.sweeper.unref()
  }
}

function closeEntry(entry: Entry): void {
  entry.fd.then(
    (fd) => closeFd(fd).catch(() => {}),
    () => {},
  )
}
