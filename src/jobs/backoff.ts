/**
 * When a failed job is tried again: exponential backoff with jitter. One policy type for every
 * kind of job; how long a job keeps being retried is its kind's own budget (media: until the
 * source's deadline; forwards: a number of attempts).
 */

export interface BackoffPolicy {
  /** The first delay; doubled per attempt. */
  baseDelayMs: number
  /** The longest delay between two attempts. */
  maxDelayMs: number
}

/**
 * The delay after attempt `attempt` (1-based): base·2^(n-1), capped, then jittered down by up
 * to half, so jobs that failed together (Meta or the app was down) do not all return together,
 * and none is ever retried at once.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempt - 1)))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
