/**
 * Where a disk put's hashed bytes go and how they become a blob (the frame around it is
 * put-frame.ts): into a `BlobSink`, in memory for a small blob and in `<root>/.tmp/<uuid>.part`
 * beyond that; then, once the caller's `beforeCommit` let it, a durable-write thread writes and
 * fsyncs the temp file (if it was in memory), renames it to its content-addressed path and fsyncs
 * that directory.
 */
import { randomUUID } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeAsync } from '../util/pipe.js'
import { blobKeyFor, type PutOptions } from './blob-store.js'
import { BlobSink } from './blob-sink.js'
import type { DurableWriter } from './durable-writer.js'
import type { HashingStream } from './hashing-stream.js'
import type { OpenFiles } from './open-files.js'
import { keyToPath } from './path-guard.js'
import type { PutAttempt } from './put-frame.js'

export const TMP_DIR = '.tmp'
/** Blobs up to this size are held in memory and written in one step (see blob-sink.ts). */
const SMALL_BLOB_BYTES = 256 * 1024

/** What a put needs of its store. */
export interface DiskPutTarget {
  root: string
  writer: DurableWriter
  /** Cached read descriptors: a put that renames a new file into place makes its path's stale. */
  openFiles: OpenFiles
}

export class DiskPut implements PutAttempt {
  private readonly tmp: string
  /** Made for a streamed body only. */
  private sink: BlobSink | undefined

  constructor(private readonly target: DiskPutTarget) {
    this.tmp = path.join(target.root, TMP_DIR, `${randomUUID()}.part`)
  }

  async write(body: Readable | Buffer, hasher: HashingStream, options: PutOptions): Promise<boolean> {
    const { target } = this
    // A whole buffer has passed the hasher already: no stream and no sink; the thread writes it as it writes a small streamed blob.
    const memory = Buffer.isBuffer(body) ? [body] : await this.stream(body, hasher)
    const sha256 = hasher.digest()
    // Before the rename and its "already there?" check: a blob found there must stay there.
    await options.beforeCommit?.(sha256)
    const file = keyToPath(target.root, blobKeyFor(sha256))
    const existed = await target.writer.finish({ root: target.root, tmp: this.tmp, file, size: hasher.bytes, ...(memory ? { bytes: memory } : {}) })
    if (!existed) target.openFiles.forget(file)
    return existed
  }

  private async stream(body: Readable, hasher: HashingStream): Promise<Buffer[] | undefined> {
    const tmp = this.tmp
    const sink = (this.sink = new BlobSink({ open: () => open(tmp, 'wx', 0o644), memoryLimit: SMALL_BLOB_BYTES }))
    await pipeAsync([body, hasher, sink])
    return sink.memory
  }

  async discard(): Promise<void> {
    this.sink?.destroy()
    await rm(this.tmp, { force: true }).catch(() => {})
  }
}
