/**
 * The floors' CPU meter (bench/baselines/floor-meter.ts) must charge a part only what it ran. A
 * per-thread clock that the kernel brings up to date only at a tick or a switch fails this: the
 * part that blocks (here an fsync, as a commit does) takes in the CPU spent before it since the
 * clock was last brought up to date.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'

let meter: typeof import('../../bench/baselines/floor-meter.js')
let dir: string
beforeAll(async () => {
  process.env.FLOOR_METER = '1'
  meter = await import('../../bench/baselines/floor-meter.js')
  dir = mkdtempSync(path.join(os.tmpdir(), 'floor-meter-'))
})
afterAll(() => {
  delete process.env.FLOOR_METER
  rmSync(dir, { recursive: true, force: true })
})

const cpuUs = () => {
  const c = process.cpuUsage()
  return c.user + c.system
}

/**
 * A fixed amount of work (a couple of milliseconds of CPU here, whatever else the machine is
 * doing), done without asking for the thread's CPU time: asking brings the thread's counter up to
 * date, which would hide a stale clock.
 */
let sink = 0
function work(): void {
  let x = sink
  for (let k = 0; k < 3_000_000; k++) x = (Math.imul(x, 1103515245) + 12345) | 0
  sink = x
}

it('charges a blocking part its own CPU, not what ran unmetered before it', () => {
  const fd = openSync(path.join(dir, 'f'), 'w')
  const rounds = 40
  const start = cpuUs()
  try {
    meter.takeParts()
    for (let i = 0; i < rounds; i++) {
      work()
      meter.metered('fsync', () => {
        writeSync(fd, 'x')
        fsyncSync(fd)
      })
    }
  } finally {
    closeSync(fd)
  }
  const total = (cpuUs() - start) / 1e3
  const part = meter.takeParts().fsync!
  expect(part.calls).toBe(rounds)
  expect(part.ms).toBeGreaterThan(0)
  // An fsync of one byte costs tens of microseconds of CPU, the work between them milliseconds;
  // a stale clock charges the fsyncs with the work as well.
  expect(part.ms).toBeLessThan((total - part.ms) / 4)
})
