/**
 * CPU time of a whole process, every thread included (worker threads, libuv's pool, V8's GC and
 * compiler threads), from /proc/<pid>/stat (Linux): what a deployment pays for, whichever thread
 * spends it. `process.cpuUsage()` inside a process reports the same figure, finer grained.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

let ticksPerSecond: number | undefined

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** User + system CPU the process has used so far, ms (resolution: one clock tick, usually 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return ((utime + stime) * 1000) / clockTicks()
}

/** CPU the process spends from now until `stop()`, ms. */
export function cpuMeter(pid: number): { stop(): number } {
  const start = processCpuMs(pid)
  return { stop: () => processCpuMs(pid) - start }
}

/** CPU this process has used so far, all threads, ms (microsecond resolution). */
export function ownCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

export interface ThreadCpu {
  /** User + system, ms. */
  ms: number
  /** System (kernel) part: syscalls such as fsync, write, rename. */
  sysMs: number
  /** Write-type syscalls (write, pwrite64, …) from the thread's /proc io counters: the SQLite thread's are its WAL frames. */
  syscw: number
}

/** CPU used so far by each thread of the process, keyed `<tid> <name>` (the thread's name in /proc). */
export function threadCpuMs(pid: number): Map<string, ThreadCpu> {
  const out = new Map<string, ThreadCpu>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const ms = (ticks: string | undefined) => (Number(ticks) * 1000) / clockTicks()
      out.set(`${tid} ${name}`, { ms: ms(fields[11]) + ms(fields[12]), sysMs: ms(fields[12]), syscw: writeCalls(pid, tid) })
    } catch {
      // the thread ended meanwhile
    }
  }
  return out
}

/** The thread's write-type syscalls so far (0 where /proc does not say). */
function writeCalls(pid: number, tid: string): number {
  try {
    return Number(/^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/io`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** Per-thread CPU between two `threadCpuMs` readings, threads that started meanwhile included. */
export function threadCpuDelta(before: Map<string, ThreadCpu>, after: Map<string, ThreadCpu>): Map<string, ThreadCpu> {
  const out = new Map<string, ThreadCpu>()
  for (const [k, v] of after) out.set(k, { ms: v.ms - (before.get(k)?.ms ?? 0), sysMs: v.sysMs - (before.get(k)?.sysMs ?? 0), syscw: v.syscw - (before.get(k)?.syscw ?? 0) })
  return out
}

/**
 * Per-thread CPU from `schedstat` (nanoseconds on the CPU; `stat`'s tick counters have 10 ms
 * resolution): what "requests per server core" divides by over a short timed window. Only
 * threads alive at both samples count, which is every thread of a server in steady state (its
 * worker threads start with it); a thread that exits in between loses its share.
 */
export interface CpuSample {
  /** Nanoseconds on the CPU per thread id, since the thread started. */
  readonly threads: ReadonlyMap<number, number>
  readonly pid: number
}

export interface CpuUsed {
  /** Seconds of CPU over all threads. */
  total: number
  /** The main thread (the event loop that parses requests). */
  main: number
  /** The busiest other thread (for the gateway: the SQLite thread). */
  busiestOther: number
  /** All other threads together (libuv pool, V8 helpers, GC, checkpointer). */
  rest: number
}

export function sampleCpu(pid: number): CpuSample {
  const threads = new Map<number, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      if (Number.isFinite(ns)) threads.set(Number(tid), ns)
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { threads, pid }
}

export function cpuBetween(before: CpuSample, after: CpuSample): CpuUsed {
  const used: [number, number][] = []
  for (const [tid, ns] of after.threads) {
    const start = before.threads.get(tid)
    if (start !== undefined) used.push([tid, (ns - start) / 1e9])
  }
  const main = used.find(([tid]) => tid === after.pid)?.[1] ?? 0
  const others = used.filter(([tid]) => tid !== after.pid).map(([, s]) => s)
  const busiestOther = others.length ? Math.max(...others) : 0
  const total = used.reduce((a, [, s]) => a + s, 0)
  return { total, main, busiestOther, rest: total - main - busiestOther }
}

/** Runs `work` and returns its result with the CPU `pid` spent meanwhile. */
export async function withCpu<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; cpu: CpuUsed }> {
  const before = sampleCpu(pid)
  const result = await work()
  return { result, cpu: cpuBetween(before, sampleCpu(pid)) }
}

/**
 * Nanoseconds on the CPU so far per thread of `pid`, keyed `<tid> <name>` (libuv's and V8's
 * threads are all named `node`), from /proc/<pid>/task/<tid>/schedstat; empty once it is gone.
 */
export function threadCpuNs(pid: number): Map<string, number> {
  const out = new Map<string, number>()
  let tids: string[] = []
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
      if (Number.isFinite(ns)) out.set(`${tid} ${name}`, ns)
    } catch {
      // Ended while we looked.
    }
  }
  return out
}
