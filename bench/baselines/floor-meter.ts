/**
 * Where the floor's main thread spends its CPU, by part, when FLOOR_METER=1. Each metered call
 * reads the thread's own CPU clock (/proc/thread-self/schedstat, nanoseconds) before and after:
 * a pread each, a few µs, so the plain runs give the totals and a metered run the split.
 */
import { openSync, readSync } from 'node:fs'

export const metering = process.env.FLOOR_METER === '1'

export interface PartCpu {
  ms: number
  calls: number
}

const parts = new Map<string, PartCpu>()
// Opened once, from the main thread: /proc/thread-self names the thread that opens it.
const schedstat = metering ? openSync('/proc/thread-self/schedstat', 'r') : -1
const buf = Buffer.alloc(64)

function threadNs(): number {
  const n = readSync(schedstat, buf, 0, buf.length, 0)
  return Number(buf.toString('latin1', 0, n).split(' ')[0])
}

/** Runs `fn`, adding the main thread's CPU it took to `part` (synchronous work only). */
export function metered<T>(part: string, fn: () => T): T {
  if (!metering) return fn()
  const start = threadNs()
  try {
    return fn()
  } finally {
    const p = parts.get(part) ?? { ms: 0, calls: 0 }
    p.ms += (threadNs() - start) / 1e6
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
