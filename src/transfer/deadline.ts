/**
 * The overall deadline of one download (MEDIAGATE_DOWNLOAD_DEADLINE_MS), from the first request
 * (the Graph lookup included) to the body's end. The fetcher's timeouts only catch silence, and
 * undici does not count silence while its reader holds the body paused: a reader that stops
 * (a stalled client, a stuck store) would otherwise keep the connection to Meta, and the token
 * it carries, forever. Every transfer opens its source through here, whatever reads it.
 */
import { MediagateError } from '../errors.js'
import type { FetchResponse } from '../fetch/index.js'

/** The error a download past its deadline is aborted with: `network`, retryable. */
export function deadlineError(ms: number): MediagateError {
  return new MediagateError('network', `the download from Meta did not finish within ${describeMs(ms)} (MEDIAGATE_DOWNLOAD_DEADLINE_MS) and was aborted`, {
    retryable: true,
    vendorCode: 'deadline',
  })
}

/**
 * Runs `open` under `signal` and a deadline of `ms`, which keeps running until the body of the
 * response it resolves with is closed (read to its end, or destroyed). Past it, the request or
 * the body is aborted with `deadlineError`. Without `ms`, `signal` alone applies.
 */
export async function withDeadline<T extends { response: FetchResponse }>(signal: AbortSignal, ms: number | undefined, open: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (ms === undefined || ms <= 0) return open(signal)
  // Not AbortSignal.any: `signal` is often long-lived (the gateway's shutdown signal), and on Node
  // 20 every composite made from it stays attached to it; this listener is removed when done.
  const controller = new AbortController()
  const follow = () => controller.abort(signal.reason)
  if (signal.aborted) follow()
  else signal.addEventListener('abort', follow, { once: true })
  const timer = setTimeout(() => controller.abort(deadlineError(ms)), ms)
  // A download forgotten by its reader must not keep the process alive; the abort still ends it.
  timer.unref()
  const clear = () => {
    clearTimeout(timer)
    signal.removeEventListener('abort', follow)
  }
  try {
    const opened = await open(controller.signal)
    if (opened.response.body.destroyed) clear()
    else opened.response.body.once('close', clear)
    return opened
  } catch (err) {
    clear()
    throw err
  }
}

function describeMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}
