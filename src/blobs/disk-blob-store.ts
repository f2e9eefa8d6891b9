/**
 * The embedded blob store: one file per blob under a root directory, at `<root>/<key>`.
 *
 * A put hashes and counts the bytes as they arrive (put-frame.ts, the frame every store's puts
 * share), holds them in memory for a small blob or in `<root>/.tmp/<uuid>.part` beyond that, and
 * has a durable-write thread move them into place (disk-put.ts): a blob is either complete and
 * durable under its final key or absent. Failed and aborted puts remove their temp file;
 * `init()` removes the ones a crash left behind, once older than `staleAfterMs`: an API process
 * and a worker process may share the directory, and one starting must not delete the other's
 * puts in progress (every write refreshes a temp file's mtime).
 */
import { randomUUID } from 'node:crypto'
import { copyFile, open as openFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { MediagateError } from '../errors.js'
import type { BlobStat, BlobStore, ByteRange, PutOptions, PutResult } from './blob-store.js'
import { DiskPut, TMP_DIR } from './disk-put.js'
import { fsyncDirectory, isErrno, mkdirDurable } from './durable-fs.js'
import { sharedDurableWriter } from './durable-writer.js'
import { assertQuarantineKey, BLOB_PREFIX, quarantineKeyFor } from './keys.js'
import { keyToPath } from './path-guard.js'
import { OpenFiles } from './open-files.js'
import { openReadStream } from './open-read-stream.js'
import { type PutFrameStore, runPut } from './put-frame.js'
import { checkRange } from './range.js'

export interface DiskBlobStoreOptions {
  /** `init()` removes temp files not written to for this long. Default 1 hour. */
  staleAfterMs?: number
}

export class DiskBlobStore implements BlobStore {
  readonly kind = 'disk'
  readonly capabilities = { presign: false }
  /** Absolute path of the store's root directory. */
  readonly root: string
  private readonly staleAfterMs: number
  private readonly openFiles = new OpenFiles()
  private readonly puts: PutFrameStore

  constructor(root: string, options: DiskBlobStoreOptions = {}) {
    this.root = path.resolve(root)
    this.staleAfterMs = options.staleAfterMs ?? 60 * 60 * 1000
    const target = { root: this.root, writer: sharedDurableWriter(), openFiles: this.openFiles }
    this.puts = { begin: () => new DiskPut(target), mapError: (err) => storageError(err, 'write the blob') }
  }

  async init(): Promise<void> {
    try {
      await mkdirDurable(path.join(this.root, BLOB_PREFIX))
      await mkdirDurable(path.join(this.root, TMP_DIR))
      // Leftovers of puts interrupted by a crash: never renamed, so never visible.
      const cutoff = Date.now() - this.staleAfterMs
      for (const name of await readdir(path.join(this.root, TMP_DIR))) {
        const file = path.join(this.root, TMP_DIR, name)
        const s = await stat(file).catch(() => undefined)
        if (s && s.mtimeMs <= cutoff) await rm(file, { force: true, recursive: true })
      }
    } catch (err) {
      throw storageError(err, 'prepare the blob directory')
    }
  }

  put(body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    return runPut(body, options, this.puts)
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    const file = keyToPath(this.root, key)
    try {
      const s = await stat(file)
      return s.isFile() ? { key, size: s.size } : undefined
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined
      throw storageError(err, 'stat the blob')
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const file = keyToPath(this.root, key)
    if (range) checkRange(range)
    try {
      return await openReadStream(file, range)
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) throw new MediagateError('not_found', `no blob ${key}`)
      throw err instanceof MediagateError ? err : storageError(err, 'read the blob')
    }
  }

  async readBytes(key: string, start: number, length: number): Promise<Buffer> {
    const file = keyToPath(this.root, key)
    if (!Number.isSafeInteger(length) || length < 0) throw new MediagateError('bad_request', `invalid length ${String(length)}`)
    if (length > 0) checkRange({ start, end: start + length - 1 })
    try {
      return await this.openFiles.read(file, start, length)
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) throw new MediagateError('not_found', `no blob ${key}`)
      throw err instanceof MediagateError ? err : storageError(err, 'read the blob')
    }
  }

  async delete(key: string): Promise<void> {
    try {
      const file = keyToPath(this.root, key)
      this.openFiles.forget(file)
      await unlink(file)
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return
      throw storageError(err, 'delete the blob')
    }
  }

  /**
   * Depth first, in directory order, one generator and one `readdir` per directory: the store
   * spreads its blobs over 65 536 leaf directories (a few entries each), so streaming each one
   * through `opendir` (open, reads and close, each a thread-pool round trip) and a generator per
   * level cost about three times what the entries themselves do. No directory of the layout
   * holds more than a few thousand entries below a billion blobs.
   */
  async *list(): AsyncIterable<BlobStat> {
    const pending: [dir: string, keyPrefix: string][] = [[path.join(this.root, BLOB_PREFIX), BLOB_PREFIX]]
    for (let next = pending.pop(); next; next = pending.pop()) {
      const [dir, keyPrefix] = next
      let entries
      try {
        entries = await readdir(dir, { withFileTypes: true })
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue
        throw storageError(err, 'list the blobs')
      }
      const below: [string, string][] = []
      for (const entry of entries) {
        const full = `${dir}${path.sep}${entry.name}`
        if (entry.isDirectory()) below.push([full, `${keyPrefix}${entry.name}/`])
        else if (entry.isFile()) {
          const s = await stat(full).catch(() => undefined)
          if (s) yield { key: `${keyPrefix}${entry.name}`, size: s.size, modifiedAt: s.mtime }
        }
      }
      // Reversed onto the stack, so they are walked in directory order.
      for (let i = below.length - 1; i >= 0; i--) pending.push(below[i]!)
    }
  }

  /**
   * Moves a blob that failed verification to `quarantine/<key>.<time>` (kept as evidence, never
   * listed) and returns that key. Throws `not_found` when the blob is absent.
   */
  async quarantine(key: string): Promise<string> {
    const from = keyToPath(this.root, key)
    const target = quarantineKeyFor(key)
    const to = keyToPath(this.root, target)
    try {
      if (!(await this.stat(key))) throw new MediagateError('not_found', `no blob ${key}`)
      await mkdirDurable(path.dirname(to))
      this.openFiles.forget(from)
      await rename(from, to)
      await fsyncDirectory(path.dirname(to))
      await fsyncDirectory(path.dirname(from))
      return target
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new MediagateError('not_found', `no blob ${key}`)
      throw storageError(err, 'quarantine the blob')
    }
  }

  /** Copies the blob to the quarantine key `target` (temp file, fsync, rename); see BlobStore. */
  async copyToQuarantine(key: string, target: string): Promise<void> {
    assertQuarantineKey(target)
    const from = keyToPath(this.root, key)
    const to = keyToPath(this.root, target)
    const temp = `${to}.${randomUUID()}.part`
    try {
      if (!(await this.stat(key))) throw new MediagateError('not_found', `no blob ${key}`)
      await mkdirDurable(path.dirname(to))
      await copyFile(from, temp)
      const handle = await openFile(temp, 'r+')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(temp, to)
      await fsyncDirectory(path.dirname(to))
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {})
      if (isErrno(err, 'ENOENT')) throw new MediagateError('not_found', `no blob ${key}`)
      throw storageError(err, 'copy the blob to quarantine')
    }
  }

  async close(): Promise<void> {
    this.openFiles.close()
  }
}

function storageError(err: unknown, action: string): MediagateError {
  if (err instanceof MediagateError) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  // Errno messages name the path, which is ours and not secret, and say what went wrong (ENOSPC).
  return new MediagateError('storage', `could not ${action}: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
    ...(code ? { vendorCode: code } : {}),
  })
}
