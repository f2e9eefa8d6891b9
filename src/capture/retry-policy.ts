/**
 * What happens after a failed capture attempt. Transient errors (network, 5xx, 429, our own
 * stores) come back later with the jobs' backoff, honouring Retry-After; permanent ones (auth,
 * expired source, 4xx, too large) fail at once so we never hammer Meta (it throttles failed
 * lookups); a hash mismatch is retried once in case the transfer was bad.
 */
import type { Settlement } from '../catalog/catalog.js'
import type { MediagateError } from '../errors.js'
import { type BackoffPolicy, backoffDelay } from '../jobs/backoff.js'
import type { MediaRecord } from '../media/record.js'

export const DEFAULT_RETRY_POLICY: BackoffPolicy = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 5 * 60_000 }

export function decideAfterFailure(
  err: MediagateError,
  media: Pick<MediaRecord, 'attempts' | 'error'>,
  policy: BackoffPolicy,
  now: Date = new Date(),
  random: () => number = Math.random,
): Settlement {
  const error = { code: err.code, message: err.message, vendorCode: err.vendorCode ?? null }
  const retryOnce = err.code === 'integrity' && media.error?.code !== 'integrity'
  if (!err.retryable && !retryOnce) return { status: 'failed', error }
  if (media.attempts >= policy.maxAttempts) {
    return { status: 'failed', error: { ...error, message: `gave up after ${media.attempts} attempts: ${err.message}` } }
  }
  const delay = Math.max(backoffDelay(media.attempts, policy, random), Math.min(err.retryAfterMs ?? 0, policy.maxDelayMs * 4))
  return { status: 'retry', error, nextAttemptAt: new Date(now.getTime() + delay) }
}
