/**
 * What happens after a failed capture attempt. Transient errors (network, 5xx, 429, our own
 * blob store or catalog) come back later with capped exponential backoff, honouring Retry-After,
 * for as long as the source can still deliver: until its deadline (a WhatsApp media id lives 7
 * days; a Messenger or Instagram CDN URL until the expiry it carries), and at most the retry
 * window after receipt. An outage of Meta, of S3 or of the disk costs time, never the media.
 * Permanent errors (auth, expired source, 4xx, too large) fail at once so we never hammer Meta
 * (it throttles failed lookups); a hash mismatch is retried once in case the transfer was bad.
 */
import type { Settlement } from '../catalog/catalog.js'
import type { MediagateError } from '../errors.js'
import { type BackoffPolicy, backoffDelay } from '../jobs/backoff.js'
import type { MediaRecord } from '../media/record.js'

export interface CaptureRetryPolicy extends BackoffPolicy {
  /** The longest a media is retried, from its receipt (MEDIAGATE_RETRY_WINDOW); its source's deadline may end it sooner. */
  windowMs: number
}

const DAY_MS = 24 * 60 * 60 * 1000

export const DEFAULT_RETRY_POLICY: CaptureRetryPolicy = { baseDelayMs: 1000, maxDelayMs: 5 * 60_000, windowMs: 7 * DAY_MS }

/** When retrying this media stops making sense: its source's deadline, or the end of the retry window. */
export function retryDeadline(media: Pick<MediaRecord, 'sourceExpiresAt' | 'receivedAt'>, policy: Pick<CaptureRetryPolicy, 'windowMs'>): { at: Date; why: string } {
  const windowEnd = media.receivedAt.getTime() + policy.windowMs
  if (media.sourceExpiresAt && media.sourceExpiresAt.getTime() <= windowEnd) return { at: media.sourceExpiresAt, why: 'its source expires' }
  return { at: new Date(windowEnd), why: 'the retry window (MEDIAGATE_RETRY_WINDOW) ends' }
}

export function decideAfterFailure(
  err: MediagateError,
  media: Pick<MediaRecord, 'attempts' | 'error' | 'sourceExpiresAt' | 'receivedAt'>,
  policy: CaptureRetryPolicy,
  now: Date = new Date(),
  random: () => number = Math.random,
): Settlement {
  const error = { code: err.code, message: err.message, vendorCode: err.vendorCode ?? null }
  const retryOnce = err.code === 'integrity' && media.error?.code !== 'integrity'
  if (!err.retryable && !retryOnce) return { status: 'failed', error }
  const delay = Math.max(backoffDelay(media.attempts, policy, random), Math.min(err.retryAfterMs ?? 0, policy.maxDelayMs * 4))
  const next = now.getTime() + delay
  const deadline = retryDeadline(media, policy)
  if (next > deadline.at.getTime()) {
    return { status: 'failed', error: { ...error, message: `gave up after ${media.attempts} attempts, as ${deadline.why} at ${deadline.at.toISOString()}: ${err.message}` } }
  }
  return { status: 'retry', error, nextAttemptAt: new Date(next) }
}
