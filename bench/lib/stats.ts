/** Percentiles and rates over raw samples: the few statistics the benchmark reports. */

export interface Distribution {
  count: number
  min: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

/** Nearest-rank percentile (p in 0..100) of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export function distribution(samples: readonly number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b)
  const sum = sorted.reduce((a, b) => a + b, 0)
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  }
}

/** Items per second; NaN when no time passed (a run too short to measure says so, not ∞). */
export function rate(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : Number.NaN
}

export const MiB = 1024 * 1024

/** The latency figures of a load run (LoadResult.latencyMs), from unsorted samples in ms. */
export function latencySummary(samples: number[]): { p50: number; p90: number; p99: number; max: number; mean: number } {
  const { p50, p90, p99, max, mean } = distribution(samples)
  return { p50, p90, p99, max, mean }
}
