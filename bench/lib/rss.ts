/**
 * Memory of a child process from /proc/<pid>/status (Linux). VmHWM is the kernel's own peak, so
 * short spikes between two samples are not missed; writing 5 to clear_refs resets it, which lets
 * one process measure several runs. Where that is not allowed, sampling VmRSS is the fallback.
 */
import { readFileSync, writeFileSync } from 'node:fs'

export interface MemoryStatus {
  /** Resident set now, bytes. */
  rss: number
  /** Peak resident set since start or since the last `resetPeak`, bytes. */
  hwm: number
}

export function readMemory(pid: number): MemoryStatus {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)
    if (!match?.[1]) throw new Error(`/proc/${pid}/status has no ${field}`)
    return Number(match[1]) * 1024
  }
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/** True when the peak was reset (Linux ≥ 4.0, and we own the process). */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** Samples VmRSS every `intervalMs` until stopped; `peak` is the largest sample. */
export class RssSampler {
  peak = 0
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly pid: number,
    intervalMs = 20,
  ) {
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalMs)
  }

  private sample(): void {
    try {
      this.peak = Math.max(this.peak, readMemory(this.pid).rss)
    } catch {
      // the process is gone; the peak so far stands
    }
  }

  stop(): number {
    clearInterval(this.timer)
    this.sample()
    return this.peak
  }
}
