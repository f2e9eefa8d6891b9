/**
 * Where the floor's main thread spends its CPU, by part, when FLOOR_METER=1. Each metered call
 * reads the process's CPU clock (`process.cpuUsage`, getrusage(RUSAGE_SELF)) before and after.
 *
 * Two per-thread clocks were tried first and both misled, the same way: per-thread schedstat
 * (/proc/thread-self/schedstat) and `process.threadCpuUsage` (getrusage(RUSAGE_THREAD)) report
 * the thread's run time as the scheduler last brought it up to date, at a tick or a switch, so a
 * part that ends in a blocking call (a commit's fsync) took in the CPU of everything run since the
 * last update, metered or not (`test/bench/floor-meter.test.ts`), and the parts that do not
 * block were charged only by where the ticks fell. getrusage(RUSAGE_SELF) brings the calling
 * thread up to date first, so it is exact for the main thread; the process's other threads (V8's
 * helpers, libuv's pool) are added as their own counters catch up, a tick's worth at a time.
 */
import process from 'node:process'

export const metering = process.env.FLOOR_METER === '1'

export interface PartCpu {
  ms: number
  calls: number
}

const parts = new Map<string, PartCpu>()
/** Which clock the figures come from, for the reader of a split. */
export const meterClock = "the process's (getrusage(RUSAGE_SELF): exact for the main thread, the other threads as their counters catch up)"

function cpuUs(): number {
  const c = process.cpuUsage()
  return c.user + c.system
}

/** Runs `fn`, adding the CPU it took to `part` (synchronous work only). */
export function metered<T>(part: string, fn: () => T): T {
  if (!metering) return fn()
  const start = cpuUs()
  try {
    return fn()
  } finally {
    const p = parts.get(part) ?? { ms: 0, calls: 0 }
    p.ms += (cpuUs() - start) / 1e3
    p.calls++
    parts.set(part, p)
  }
}

/** The parts' CPU since the last call, and a fresh start. */
export function takeParts(): Record<string, PartCpu> {
  const out = Object.fromEntries(parts)
  parts.clear()
  return out
}
