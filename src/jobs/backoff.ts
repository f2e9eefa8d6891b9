/**
 * When a failed job is tried again: exponential backoff with jitter, within a budget of attempts.
 * One policy type for every kind of job (captures, forwards, and what comes next).
 */

export interface BackoffPolicy {
  /** Attempts a job gets before it fails for good; claims never hand out a job past it. */
  maxAttempts: number
  /** The first delay; doubled per attempt. */
  baseDelayMs: number
  maxDelayMs: number
}

/**
 * The delay after attempt `attempt` (1-based): base·2^(n-1), capped, then jittered down by up
 * to half, so jobs that failed together (Meta or the app was down) do not all return together,
 * and none is ever retried at once.
 */
export function backoffDelay(attempt: number, policy: Pick<BackoffPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempt - 1)))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
