/** Clocks, sleeps and bounded waiting: every loop in the benchmark ends by count or by time. */
import { setTimeout as sleep } from 'node:timers/promises'

export { sleep }

export function now(): number {
  return performance.now()
}

/** Runs `fn` and returns its result with the elapsed milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now()
  const result = await fn()
  return { result, ms: performance.now() - start }
}

/**
 * Runs `round` for both sides, `rounds` times, the two alternating and which goes first
 * alternating too, so that a change in the machine's load during the run falls on both alike
 * instead of on whichever side ran second.
 */
export async function inAlternatedRounds<S>(rounds: number, sides: readonly [S, S], round: (side: S, index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const [first, second] = i % 2 === 0 ? sides : [sides[1], sides[0]]
    await round(first, i)
    await round(second, i)
  }
}

export interface WaitOptions {
  timeoutMs: number
  intervalMs?: number
  /** Named in the timeout error. */
  what: string
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, o: WaitOptions): Promise<T> {
  const deadline = Date.now() + o.timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${o.what}`)
    await sleep(o.intervalMs ?? 50)
  }
}
