/**
 * A job kind that waits to claim while the CPU is contended (MEDIAGATE_DERIVE_YIELD_PRESSURE):
 * deriving gives way to a burst of captures. A lower CPU priority alone (MEDIAGATE_TOOL_NICE)
 * did not keep derivation off capture's back on a small machine: on 2 cores, the few dozen
 * derivations that ran during a burst of 2,000 photos added a tenth to a fifth to the gateway's
 * CPU per capture, whatever their priority (nice 0, 10, SCHED_IDLE; docs/performance.md, twelfth
 * round), since part of a derivation runs at the gateway's own priority and two cores leave
 * little idle. Started only once the burst is over, they take nothing from it.
 *
 * While the pressure is at or above the threshold, claims return nothing and the engine is told
 * to look again shortly (`nextDueAt`), so a derivation starts within a recheck of the pressure
 * falling. A contended spell is waited out for at most `maxWaitMs`; past that, jobs are claimed
 * as usual (still at the tools' lower priority) until the pressure falls, so a machine that
 * stays busy still gets its thumbnails. Settlements still settle; they only stop claiming more.
 */
import type { CpuPressure } from './cpu-pressure.js'
import type { JobKind } from './job-engine.js'

export interface YieldOptions {
  pressure: CpuPressure
  /** Percent of stalled time at or above which claims wait. */
  thresholdPercent: number
  /** Longest a contended spell holds claims back. */
  maxWaitMs: number
  /** How soon a waiting engine looks at the pressure again. */
  recheckMs?: number
  now?: () => number
}

const RECHECK_MS = 250

export function yieldingToCpuPressure<J, O>(kind: JobKind<J, O>, options: YieldOptions): JobKind<J, O> {
  const { pressure, thresholdPercent, maxWaitMs } = options
  const recheckMs = options.recheckMs ?? RECHECK_MS
  const now = options.now ?? Date.now
  /** When the current contended spell began; undefined while the CPU is calm. */
  let contendedSince: number | undefined
  const waiting = (): boolean => {
    if (pressure.percent() < thresholdPercent) {
      contendedSince = undefined
      return false
    }
    contendedSince ??= now()
    return now() - contendedSince < maxWaitMs
  }
  const stillWaiting = () => contendedSince !== undefined && now() - contendedSince < maxWaitMs
  const { settleAndClaim, nextDueAt } = kind
  return {
    ...kind,
    claim: async (claim) => (waiting() ? [] : kind.claim(claim)),
    ...(settleAndClaim
      ? {
          settleAndClaim: async (job, owner, outcome, claim) =>
            waiting() ? { applied: await kind.settle(job, owner, outcome), claimed: [] } : settleAndClaim.call(kind, job, owner, outcome, claim),
        }
      : {}),
    // While waiting, the engine sleeps only until the next look at the pressure; the catalog is
    // not asked when the next job is due (a wake for every capture settled would ask each time).
    nextDueAt: async () => (stillWaiting() ? new Date(now() + recheckMs) : ((await nextDueAt?.call(kind)) ?? null)),
  }
}
