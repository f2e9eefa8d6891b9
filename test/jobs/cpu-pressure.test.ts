/**
 * The CPU's contention as queued derivations read it: the share computed from a stall counter
 * (over the last half second or more), and the kernel's own counter read on this machine while
 * more busy processes than cores run. Linux with PSI only for the second; elsewhere it is skipped
 * with the reason.
 */
import { spawn } from 'node:child_process'
import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { cpuPressureFrom, openCpuPressure } from '../../src/jobs/cpu-pressure.js'

describe('cpuPressureFrom', () => {
  it('is the stalled share of the time since the reading at least half a second old, read at most every 50 ms', () => {
    let clock = 0
    let stalledUs = 0
    const pressure = cpuPressureFrom('test', () => stalledUs, () => clock)
    // 100 ms in which tasks waited 40 ms of it.
    clock = 100
    stalledUs = 40_000
    expect(pressure.percent()).toBeCloseTo(40)
    // Read again 20 ms later: the last share, the counter not read.
    clock = 120
    stalledUs = 120_000
    expect(pressure.percent()).toBeCloseTo(40)
    // 590 ms in: still over the whole time since 0 (the 100 ms reading is not yet half a second old).
    clock = 590
    stalledUs = 300_000
    expect(pressure.percent()).toBeCloseTo(300_000 / 590 / 10)
    // 700 ms in: the base moves to the 100 ms reading, so the calm spell since then is all that counts.
    clock = 700
    stalledUs = 300_000
    expect(pressure.percent()).toBeCloseTo(((300_000 - 40_000) / 600 / 1000) * 100)
    clock = 1300
    expect(pressure.percent()).toBeCloseTo(0)
  })

  it('takes its base from the first counter it can read', () => {
    let clock = 0
    let stalledUs = Number.NaN
    const pressure = cpuPressureFrom('test', () => stalledUs, () => clock)
    clock = 100
    stalledUs = 1_000_000
    expect(pressure.percent()).toBe(0)
    clock = 200
    stalledUs = 1_050_000
    expect(pressure.percent()).toBeCloseTo(50)
  })

  it('clamps to 0-100 and reads a counter that can no longer be read as no pressure', () => {
    let clock = 0
    let stalledUs = 0
    const pressure = cpuPressureFrom('test', () => stalledUs, () => clock)
    clock = 100
    // Several tasks waiting at once count once in "some"; a counter that jumps is still capped.
    stalledUs = 500_000
    expect(pressure.percent()).toBe(100)
    clock = 200
    stalledUs = Number.NaN
    expect(pressure.percent()).toBe(0)
  })
})

const pressure = openCpuPressure()
if (!pressure) console.warn('cpu-pressure.test.ts: the kernel figure is not read here (no /proc/pressure/cpu or cgroup cpu.pressure: Linux 4.20+ with PSI); its test is skipped')

describe.skipIf(!pressure)('openCpuPressure on this machine', () => {
  it('reads a share in 0-100, and a high one while more busy processes than cores run', async () => {
    expect(pressure!.source).toMatch(/cpu\.pressure$|\/proc\/pressure\/cpu$/)
    const idle = pressure!.percent()
    expect(idle).toBeGreaterThanOrEqual(0)
    expect(idle).toBeLessThanOrEqual(100)
    // Twice as many processes as cores, each spinning for a bounded 1.5 s.
    const spinners = Array.from({ length: 2 * os.availableParallelism() }, () =>
      spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);'], { stdio: 'ignore' }),
    )
    const exited = Promise.all(spinners.map((child) => new Promise((resolve) => child.once('exit', resolve))))
    try {
      await new Promise((r) => setTimeout(r, 1000))
      // Reads closer than 50 ms apart return the last share: read twice, 100 ms apart, half a second into the load.
      pressure!.percent()
      await new Promise((r) => setTimeout(r, 100))
      expect(pressure!.percent()).toBeGreaterThan(50)
    } finally {
      await exited
    }
  })
})
