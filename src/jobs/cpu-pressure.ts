/**
 * How contended the CPU is right now: the share of the last half second in which some runnable
 * task waited for a core, from Linux's pressure stall information (PSI: the "some" line's total,
 * in microseconds). It is read for the gateway's own cgroup where cgroup v2 keeps one
 * (`cpu.pressure`, so a container sees its own quota), else for the machine
 * (`/proc/pressure/cpu`).
 *
 * Why PSI and not idle time or the load average: a derivation at a lower priority on an
 * otherwise idle core adds no pressure (nothing waits), where it would make the machine look
 * busy; captures that keep every core busy and queue behind each other add a lot; and the load
 * average trails a burst by a minute. Elsewhere than Linux 4.20+ with PSI enabled there is no such
 * figure, and the gate that uses it lets everything through (`openCpuPressure` says so).
 */
import { readFileSync } from 'node:fs'

export interface CpuPressure {
  /** Where the figure is read (for the start log and `mediagate doctor`). */
  readonly source: string
  /** Percent (0–100) of the recent window in which some task waited for a CPU. */
  percent(): number
}

/** What is off where the figure cannot be read, and how to turn it on. */
export const NO_CPU_PRESSURE =
  "CPU pressure cannot be read here (Linux 4.20+ with pressure stall information: /proc/pressure/cpu, or the cgroup's cpu.pressure): queued derivations do not wait for bursts of captures; they run at MEDIAGATE_TOOL_NICE's lower priority only. Turn it on with a kernel built with CONFIG_PSI (psi=1 on the kernel command line where it is off by default)"

/** The window a share is taken over (at least; longer after a pause between reads). */
const WINDOW_MS = 500
/** Reads closer together than this return the last share: a burst may ask hundreds of times a second. */
const MIN_READ_GAP_MS = 50

const SOME_TOTAL = /^some .*\btotal=(\d+)/m
/** The whole machine's figure. */
const MACHINE_PRESSURE = '/proc/pressure/cpu'

/** The CPU pressure of this process's cgroup, or of the machine; undefined where neither can be read. */
export function openCpuPressure(): CpuPressure | undefined {
  for (const file of pressureFiles()) {
    if (readStallTotalUs(file) !== undefined) return cpuPressureFrom(file, () => readStallTotalUs(file) ?? Number.NaN)
  }
  return undefined
}

/**
 * The share computed from a cumulative stall counter (µs) and a clock (ms): over the readings of
 * the last WINDOW_MS or more. A counter that cannot be read any more (NaN) reads as no pressure.
 */
export function cpuPressureFrom(source: string, readTotal: () => number, now: () => number = () => performance.now()): CpuPressure {
  // Readings kept: the oldest is the newest one at least WINDOW_MS old, the base of the share.
  const readings: { at: number; total: number }[] = []
  const first = readTotal()
  if (Number.isFinite(first)) readings.push({ at: now(), total: first })
  let last = 0
  let lastReadAt = -Infinity
  return {
    source,
    percent() {
      const at = now()
      if (at - lastReadAt < MIN_READ_GAP_MS) return last
      lastReadAt = at
      const total = readTotal()
      if (!Number.isFinite(total)) return (last = 0)
      readings.push({ at, total })
      while (readings.length > 2 && at - readings[1]!.at >= WINDOW_MS) readings.shift()
      const base = readings[0]!
      const spanMs = at - base.at
      // The first reading there is: no span to take a share over yet.
      if (spanMs <= 0) return last
      last = Math.min(100, Math.max(0, (total - base.total) / 10 / spanMs))
      return last
    },
  }
}

/** The cgroup v2 file of this process's cgroup first, then the machine's. */
function pressureFiles(): string[] {
  const files: string[] = []
  try {
    // cgroup v2's line is `0::/path`; a v1-only or hybrid host may mount it under unified/.
    const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))
    const dir = line?.slice(3).trim()
    if (dir && dir !== '/') files.push(`/sys/fs/cgroup${dir}/cpu.pressure`, `/sys/fs/cgroup/unified${dir}/cpu.pressure`)
  } catch {
    // Not Linux, or no cgroups: the machine's figure, if any.
  }
  files.push(MACHINE_PRESSURE)
  return files
}

/** Microseconds some task has waited for a CPU so far, by the PSI file's "some" line; undefined where it cannot be read. */
export function readStallTotalUs(file = MACHINE_PRESSURE): number | undefined {
  try {
    const match = SOME_TOTAL.exec(readFileSync(file, 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}
