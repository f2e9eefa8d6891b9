/**
 * Where the floor's main thread spends its CPU, by part, when FLOOR_METER=1. Each metered call
 * reads a CPU clock before and after. Per-thread schedstat (/proc/thread-self/schedstat) was used
 * first and misled: the kernel brings a running thread's total up to date only at a scheduler
 * tick or a switch, so a part that blocks (a commit's fsync) took in the CPU of the parts run
 * before it since the last tick. Here the clock is the thread's own where Node has one
 * (`process.threadCpuUsage`, Node 23.9 and later) and otherwise the process's (`getrusage`,
 * exact but counting every thread: V8's helpers and libuv's pool add what they ran meanwhile).
 */
import process from 'node:process'

export const metering = process.env.FLOOR_METER === '1'

export interface PartCpu {
  ms: number
  calls: number
}

const parts = new Map<string, PartCpu>()
const threadCpuUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage
/** Which clock the figures come from, for the reader of a split. */
export const meterClock = threadCpuUsage ? 'the main thread (process.threadCpuUsage)' : 'the whole process (process.cpuUsage)'

function cpuUs(): number {
  const c = threadCpuUsage ? threadCpuUsage.call(process) : process.cpuUsage()
  return c.user + c.system
}

/** Runs `fn`, adding the main thread's CPU it took to `part` (synchronous work only). */
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
