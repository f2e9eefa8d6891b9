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
