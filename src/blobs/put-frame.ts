/**
 * The frame around every put, the same for every store, so that what a put promises does not
 * depend on where its bytes go: an already aborted put and bad options are refused before a byte
 * is read (the body destroyed); the bytes pass one `HashingStream`, which an abort destroys with
 * the caller's reason; any failure destroys the body and the hasher and lets the store discard
 * its temporary data; the result is always the hasher's sha256 and count under `blobKeyFor`.
 *
 * A failure becomes: the caller's abort reason when it aborted; our own errors (too_large,
 * integrity, and whatever `beforeCommit` refused the commit with) as they are; an error of the
 * source stream as `network` (the download broke, not the store); anything else through the
 * store's own mapping.
 *
 * The store supplies only the middle, a `PutAttempt`: where the hashed bytes go and how they are
 * committed. It pipes `body` into `hasher` itself, in the one pipe it needs anyway (the disk
 * pipes on into its sink, S3 hands the hasher to the upload): no extra stream or pipe per put.
 *
 * A body already whole in one Buffer (a small download read at once, see transfer/whole-body.ts)
 * is the fast case of the same frame: the hasher takes it in one call (`whole`: the same count,
 * limit and checks), so a wrong hash, a wrong size or an oversize body fails before the store
 * sees a byte, and the store commits that one buffer without a stream.
 */
import type { Readable } from 'node:stream'
import { MediagateError, toMediagateError } from '../errors.js'
import { blobKeyFor, type PutOptions, type PutResult } from './blob-store.js'
import { HashingStream } from './hashing-stream.js'

/** One put's store-specific part. */
export interface PutAttempt {
  /**
   * Pipes `body` through `hasher` into the store and commits the bytes under
   * `blobKeyFor(hasher.digest())`; resolves true when that blob was already there. Must not
   * resolve before the hasher has seen the end of the body (the frame then fails with `internal`).
   * Awaits `options.beforeCommit` once, with the sha256, before it commits or looks for the
   * blob under its final key, and commits nothing when it rejects. A Buffer `body` has passed
   * the hasher already (verified, `digest()` ready): the store only commits it.
   */
  write(body: Readable | Buffer, hasher: HashingStream, options: PutOptions): Promise<boolean>
  /** After a failed `write`: removes what it left outside the final keys. Never rejects. */
  discard(): Promise<void>
}

export interface PutFrameStore {
  /** Called once the put has passed the checks. */
  begin(): PutAttempt
  /** The store's mapping of its own errors (and of anything unexpected) to ours. */
  mapError(err: unknown): MediagateError
}

export async function runPut(body: Readable | Buffer, options: PutOptions, store: PutFrameStore): Promise<PutResult> {
  const stream = Buffer.isBuffer(body) ? undefined : body
  const { signal } = options
  if (signal?.aborted) {
    stream?.destroy()
    throw abortedError(signal)
  }
  let hasher: HashingStream
  try {
    hasher = new HashingStream(options)
    if (!stream) hasher.whole(body as Buffer)
  } catch (err) {
    stream?.destroy()
    throw err
  }
  const source = stream ? watchSource(stream, hasher) : { error: undefined }
  // Through the hasher, every store's pipe fails with the reason; for S3 it is also the one abort
  // that lets in-flight requests settle and the multipart be aborted before the upload settles.
  // Once the hasher is done (destroyed after its end), the bytes are complete and the commit runs on.
  // A whole buffer is past that point already: nothing to cut, and no one would hear the hasher's
  // error (an unheard 'error' ends the process). Its commit runs on, as a streamed body's would.
  const onAbort = signal && stream
    ? () => {
        if (!hasher.destroyed) hasher.destroy(abortedError(signal))
      }
    : undefined
  if (onAbort) signal?.addEventListener('abort', onAbort, { once: true })
  let attempt: PutAttempt | undefined
  try {
    attempt = store.begin()
    const existed = await attempt.write(body, hasher, options)
    const sha256 = hasher.digest()
    return { key: blobKeyFor(sha256), sha256, size: hasher.bytes, existed }
  } catch (err) {
    // Attributed before the destroys below, which must not read as the source failing.
    const failure = frameFailure(err, source, signal) ?? store.mapError(err)
    hasher.destroy()
    stream?.destroy()
    await attempt?.discard()
    throw failure
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  }
}

function abortedError(signal: AbortSignal): MediagateError {
  const reason: unknown = signal.reason
  if (reason instanceof MediagateError) return reason
  return new MediagateError('storage', 'the put was aborted', { cause: reason, retryable: true })
}

/**
 * Remembers an error the source emits of its own accord, to tell "the download broke" from "the
 * store broke". When the store, the hasher or an abort fails first, the pipe destroys the body
 * with that error too, but only after the hasher (destroyed in the same step or before): an error
 * arriving while the hasher is still alive is the source's. Registered before any pipe, so this
 * listener runs before the pipe's own reaction to the error.
 */
function watchSource(body: Readable, hasher: HashingStream): { error: unknown } {
  const seen: { error: unknown } = { error: undefined }
  body.once('error', (err) => {
    if (!hasher.destroyed) seen.error = err
  })
  return seen
}

/** What a failure is when the frame can tell; undefined leaves it to the store's mapping. */
function frameFailure(err: unknown, source: { error: unknown }, signal: AbortSignal | undefined): MediagateError | undefined {
  if (signal?.aborted) return abortedError(signal)
  if (err instanceof MediagateError) return err
  if (source.error !== undefined && err === source.error) return toMediagateError(err, 'network')
  return undefined
}
