/** When a failed forward is tried again: exponential backoff with jitter, within a budget of attempts. */

export interface ForwardRetryPolicy {
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_FORWARD_RETRY: ForwardRetryPolicy = { maxAttempts: 20, baseDelayMs: 1000, maxDelayMs: 10 * 60 * 1000 }

/**
 * The delay after attempt `attempts` (1-based): base·2^(n-1), capped, then jittered down by up
 * to half, so forwards that failed together (the app was down) do not all return together.
 */
export function forwardDelayMs(attempts: number, policy: ForwardRetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempts - 1)))
  return Math.round(exp * (0.5 + random() / 2))
}
