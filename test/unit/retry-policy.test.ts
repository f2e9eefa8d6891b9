import { describe, expect, it } from 'vitest'
import { type CaptureRetryPolicy, DEFAULT_RETRY_POLICY, decideAfterFailure, retryDeadline } from '../../src/capture/retry-policy.js'
import { backoffDelay } from '../../src/jobs/backoff.js'
import { MediagateError } from '../../src/errors.js'
import type { MediaRecord } from '../../src/media/record.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const policy: CaptureRetryPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000, windowMs: 7 * DAY }
const now = new Date('2026-01-01T00:00:00Z')
const media = (attempts: number, lastError: string | null = null, source: { receivedAt?: Date; sourceExpiresAt?: Date | null } = {}) =>
  ({ attempts, error: lastError ? { code: lastError, message: 'x' } : null, receivedAt: source.receivedAt ?? now, sourceExpiresAt: source.sourceExpiresAt ?? null }) as MediaRecord

describe('retry policy', () => {
  it('backs off exponentially with jitter, within [ceiling/2, ceiling]', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(500)
    expect(backoffDelay(1, policy, () => 1)).toBe(1000)
    expect(backoffDelay(4, policy, () => 1)).toBe(8000)
    expect(backoffDelay(30, policy, () => 1)).toBe(60_000)
  })

  it('retries transient errors until the source’s deadline, however many attempts that takes', () => {
    const err = new MediagateError('upstream', 'HTTP 503')
    const d = decideAfterFailure(err, media(2), policy, now, () => 1)
    expect(d).toMatchObject({ status: 'retry', error: { code: 'upstream' } })
    expect(d.status === 'retry' && d.nextAttemptAt.getTime() - now.getTime()).toBe(2000)
    // Attempts alone never give up: 500 failed attempts a minute apart are still inside a WhatsApp id's 7 days.
    const whatsapp = { receivedAt: new Date(now.getTime() - 6 * DAY), sourceExpiresAt: new Date(now.getTime() + DAY) }
    expect(decideAfterFailure(err, media(500, 'upstream', whatsapp), policy, now).status).toBe('retry')
    // Past the id's expiry a retry cannot succeed: the media fails, saying why.
    const expiring = { receivedAt: new Date(now.getTime() - 7 * DAY + 30_000), sourceExpiresAt: new Date(now.getTime() + 30_000) }
    expect(decideAfterFailure(err, media(500, 'upstream', expiring), policy, now, () => 1)).toMatchObject({
      status: 'failed',
      error: { code: 'upstream', message: expect.stringMatching(/^gave up after 500 attempts, as its source expires at 2026-01-01T00:00:30.000Z: HTTP 503$/) },
    })
  })

  it('survives a one-hour outage of Meta or of our own stores with the defaults', () => {
    for (const code of ['upstream', 'network', 'storage', 'catalog', 'rate_limited'] as const) {
      const err = new MediagateError(code, 'down')
      let t = now.getTime()
      let attempts = 0
      // Fail every attempt for an hour, backing off as the policy says: it is still retrying after.
      while (t < now.getTime() + HOUR) {
        attempts += 1
        const d = decideAfterFailure(err, media(attempts, code, { receivedAt: now, sourceExpiresAt: new Date(now.getTime() + 7 * DAY) }), DEFAULT_RETRY_POLICY, new Date(t))
        expect(d.status, `${code} after ${attempts} attempts`).toBe('retry')
        t = (d as { nextAttemptAt: Date }).nextAttemptAt.getTime()
      }
      expect(attempts).toBeGreaterThan(8)
    }
  })

  it('ends at the retry window when the source’s deadline is later or unknown', () => {
    expect(retryDeadline({ receivedAt: now, sourceExpiresAt: null }, { windowMs: HOUR })).toEqual({ at: new Date(now.getTime() + HOUR), why: 'the retry window (MEDIAGATE_RETRY_WINDOW) ends' })
    expect(retryDeadline({ receivedAt: now, sourceExpiresAt: new Date(now.getTime() + 60_000) }, { windowMs: HOUR })).toEqual({ at: new Date(now.getTime() + 60_000), why: 'its source expires' })
    const late = decideAfterFailure(new MediagateError('network', 'reset'), media(3, 'network', { receivedAt: new Date(now.getTime() - HOUR + 500) }), { ...policy, windowMs: HOUR }, now, () => 1)
    expect(late).toMatchObject({ status: 'failed', error: { code: 'network', message: expect.stringContaining('the retry window (MEDIAGATE_RETRY_WINDOW) ends') } })
  })

  it('honours Retry-After when it is longer than the backoff', () => {
    const err = new MediagateError('rate_limited', '429', { retryAfterMs: 30_000 })
    const d = decideAfterFailure(err, media(1), policy, now, () => 0)
    expect(d.status === 'retry' && d.nextAttemptAt.getTime() - now.getTime()).toBe(30_000)
  })

  it('fails permanent errors at once', () => {
    for (const code of ['auth', 'source_expired', 'source_rejected', 'too_large', 'host_not_allowed'] as const) {
      expect(decideAfterFailure(new MediagateError(code, 'no'), media(1), policy, now).status).toBe('failed')
    }
  })

  it('retries an integrity failure once, then fails', () => {
    const err = new MediagateError('integrity', 'sha256 mismatch')
    expect(decideAfterFailure(err, media(1), policy, now).status).toBe('retry')
    expect(decideAfterFailure(err, media(2, 'integrity'), policy, now)).toMatchObject({ status: 'failed', error: { code: 'integrity' } })
  })
})
