/**
 * CPU time a child process spends, read from /proc per thread: what "requests per server core"
 * divides by. Wall-clock throughput on a shared 2-core machine says as much about the neighbours
 * as about the server; the CPU the server itself burns over the timed window does not.
 *
 * `schedstat` counts nanoseconds on the CPU (the tick counters of `stat` have 10 ms resolution).
 * Only threads alive at both samples count, which is every thread of a server in steady state
 * (its worker threads start with it); a thread that exits in between loses its share.
 */
import { readFileSync, readdirSync } from 'node:fs'

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
