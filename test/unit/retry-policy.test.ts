import { describe, expect, it } from 'vitest'
import { decideAfterFailure } from '../../src/capture/retry-policy.js'
import { type BackoffPolicy as RetryPolicy, backoffDelay } from '../../src/jobs/backoff.js'
import { MediagateError } from '../../src/errors.js'
import type { MediaRecord } from '../../src/media/record.js'

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 }
const now = new Date('2026-01-01T00:00:00Z')
const media = (attempts: number, lastError: string | null = null) => ({ attempts, error: lastError ? { code: lastError, message: 'x' } : null }) as MediaRecord

describe('retry policy', () => {
  it('backs off exponentially with jitter, within [ceiling/2, ceiling]', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(500)
    expect(backoffDelay(1, policy, () => 1)).toBe(1000)
    expect(backoffDelay(4, policy, () => 1)).toBe(8000)
    expect(backoffDelay(30, policy, () => 1)).toBe(60_000)
  })

  it('retries transient errors until the budget is spent', () => {
    const err = new MediagateError('upstream', 'HTTP 503')
    const d = decideAfterFailure(err, media(2), policy, now, () => 1)
    expect(d).toMatchObject({ status: 'retry', error: { code: 'upstream' } })
    expect(d.status === 'retry' && d.nextAttemptAt.getTime() - now.getTime()).toBe(2000)
    expect(decideAfterFailure(err, media(5), policy, now)).toMatchObject({ status: 'failed', error: { code: 'upstream', message: expect.stringContaining('gave up after 5 attempts') } })
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
