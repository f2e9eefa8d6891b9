/**
 * A job kind that waits to claim while the CPU is contended: claims and the claims made with
 * settlements hold back at or above the threshold, settlements still land, the engine is told to
 * look again soon, and a spell longer than the longest wait lets claims through until it ends.
 */
import { describe, expect, it } from 'vitest'
import type { JobClaim, JobKind } from '../../src/jobs/job-engine.js'
import { yieldingToCpuPressure } from '../../src/jobs/yield-to-cpu-pressure.js'

type Job = { id: string }

function recordingKind() {
  const calls: string[] = []
  const kind: JobKind<Job, string> = {
    name: 'derive',
    id: (job) => job.id,
    claim: async (claim) => {
      calls.push(`claim ${claim.limit}`)
      return [{ id: 'a' }]
    },
    nextDueAt: async () => {
      calls.push('nextDueAt')
      return new Date(5_000_000)
    },
    run: async () => 'done',
    afterError: () => 'failed',
    handBack: () => 'retry',
    settle: async (job, _owner, outcome) => {
      calls.push(`settle ${job.id} ${outcome}`)
      return true
    },
    settleAndClaim: async (job, _owner, outcome, claim) => {
      calls.push(`settleAndClaim ${job.id} ${outcome} ${claim.limit}`)
      return { applied: true, claimed: [{ id: 'b' }] }
    },
  }
  return { kind, calls }
}

const CLAIM: JobClaim = { owner: 'me', limit: 1, leaseMs: 60_000, crashLimit: 3 }

describe('yieldingToCpuPressure', () => {
  it('claims nothing at or above the threshold, settles without claiming, and asks for a look again soon', async () => {
    let level = 30
    let clock = 1_000_000
    const { kind, calls } = recordingKind()
    const gated = yieldingToCpuPressure(kind, { pressure: { source: 'test', percent: () => level }, thresholdPercent: 30, maxWaitMs: 10_000, recheckMs: 250, now: () => clock })
    expect(await gated.claim(CLAIM)).toEqual([])
    expect(await gated.settleAndClaim!({ id: 'x' }, 'me', 'done', CLAIM)).toEqual({ applied: true, claimed: [] })
    // The catalog is not asked when the next job is due while waiting.
    expect((await gated.nextDueAt!())?.getTime()).toBe(clock + 250)
    expect(calls).toEqual(['settle x done'])

    clock += 1000
    level = 29
    expect(await gated.claim(CLAIM)).toEqual([{ id: 'a' }])
    expect(await gated.settleAndClaim!({ id: 'y' }, 'me', 'done', CLAIM)).toEqual({ applied: true, claimed: [{ id: 'b' }] })
    expect((await gated.nextDueAt!())?.getTime()).toBe(5_000_000)
    expect(calls).toEqual(['settle x done', 'claim 1', 'settleAndClaim y done 1', 'nextDueAt'])
  })

  it('waits out a contended spell for at most maxWaitMs, then claims until the pressure falls, and waits again in the next spell', async () => {
    let level = 90
    let clock = 0
    const { kind, calls } = recordingKind()
    const gated = yieldingToCpuPressure(kind, { pressure: { source: 'test', percent: () => level }, thresholdPercent: 30, maxWaitMs: 10_000, now: () => clock })
    expect(await gated.claim(CLAIM)).toEqual([])
    clock = 9_999
    expect(await gated.claim(CLAIM)).toEqual([])
    clock = 10_000
    expect(await gated.claim(CLAIM)).toEqual([{ id: 'a' }])
    // Past the wait, the engine sleeps as it would without the gate.
    expect((await gated.nextDueAt!())?.getTime()).toBe(5_000_000)
    clock = 60_000
    expect(await gated.claim(CLAIM)).toEqual([{ id: 'a' }])
    // Calm for a moment: the next spell is waited out anew.
    level = 10
    expect(await gated.claim(CLAIM)).toEqual([{ id: 'a' }])
    level = 90
    clock = 61_000
    expect(await gated.claim(CLAIM)).toEqual([])
    expect(calls.filter((c) => c.startsWith('claim'))).toHaveLength(3)
  })

  it('leaves a kind without settleAndClaim without one', () => {
    const { kind } = recordingKind()
    const { settleAndClaim: _, ...plain } = kind
    const gated = yieldingToCpuPressure(plain, { pressure: { source: 'test', percent: () => 0 }, thresholdPercent: 30, maxWaitMs: 1000 })
    expect(gated.settleAndClaim).toBeUndefined()
  })
})
