/**
 * What a failed `put` becomes, the same way in every store: the caller's abort reason when it
 * aborted; our own errors (too_large, integrity) as they are; an error of the source stream as
 * `network` (the download broke, not the store); anything else through the store's own mapping.
 */
import type { Readable } from 'node:stream'
import { MediagateError, toMediagateError } from '../errors.js'

export function abortedError(signal: AbortSignal): MediagateError {
  const reason: unknown = signal.reason
  if (reason instanceof MediagateError) return reason
  return new MediagateError('storage', 'the put was aborted', { cause: reason, retryable: true })
}

/** Remembers the first error the source emits, to tell "the download broke" from "the store broke". */
export function watchSource(body: Readable): { error: unknown } {
  const seen: { error: unknown } = { error: undefined }
  body.once('error', (err) => {
    seen.error = err
  })
  return seen
}

export function putFailure(err: unknown, source: { error: unknown }, signal: AbortSignal | undefined, mapStoreError: (err: unknown) => MediagateError): MediagateError {
  if (signal?.aborted) return abortedError(signal)
  if (err instanceof MediagateError) return err
  if (source.error !== undefined && err === source.error) return toMediagateError(err, 'network')
  return mapStoreError(err)
}
