/**
 * Image and audio/video work at a lower CPU priority (MEDIAGATE_TOOL_NICE): real sharp, real
 * child processes, nice values read back from /proc. Linux only: elsewhere libvips's threads are
 * left alone by design and /proc is not there to read.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os, { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { probe, runTool } from '../../src/derivatives/ffmpeg.js'
import { deriveImage } from '../../src/derivatives/image.js'
import { setLibvipsNice } from '../../src/derivatives/tool-priority.js'
import { sampleJpeg } from '../../src/emulator/sample-media.js'

const linux = process.platform === 'linux'
if (!linux) console.warn('tool-priority.test.ts skipped: per-thread nice values are read from /proc (Linux only)')

/** This process's threads: name and nice value (field 19 of /proc/…/stat, after the name). */
function threads(): { tid: number; name: string; nice: number }[] {
  const out: { tid: number; name: string; nice: number }[] = []
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trimEnd()
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      out.push({ tid: Number(tid), name, nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) })
    } catch {
      // Ended while we looked.
    }
  }
  return out
}

/** A shell command's `nice` as its own child sees it, after the parent has had time to be lowered. */
const NICE_OF_CHILD = 'sleep 0.3; cut -d" " -f19 /proc/self/stat'

describe.skipIf(!linux)('tool priority', () => {
  const base = os.getPriority()

  it('libvips threads keep the gateway priority with 0, and get the configured lower one after, the gateway threads untouched', async () => {
    setLibvipsNice(0)
    await deriveImage(sampleJpeg(1), { maxPixels: 50_000_000 })
    const before = threads()
    expect(before.filter((t) => t.name === 'libvips worker').length).toBeGreaterThan(0)
    expect(new Set(before.map((t) => t.nice))).toEqual(new Set([base]))

    setLibvipsNice(7)
    // The pool may grow during an image: those threads are lowered when it ends.
    await Promise.all([1, 2, 3].map((i) => deriveImage(sampleJpeg(i), { maxPixels: 50_000_000 })))
    const after = threads()
    const libvips = after.filter((t) => t.name === 'libvips worker')
    expect(libvips.length).toBeGreaterThan(0)
    expect(libvips.map((t) => t.nice)).toEqual(libvips.map(() => Math.min(19, base + 7)))
    expect(after.filter((t) => t.name !== 'libvips worker').map((t) => t.nice)).toEqual(after.filter((t) => t.name !== 'libvips worker').map(() => base))
  })

  it('a tool process runs at the configured lower priority, or at the gateway one with 0', async () => {
    const lowered = await runTool('/bin/sh', ['-c', NICE_OF_CHILD], { timeoutMs: 10_000, nice: 6 })
    expect(Number(lowered.toString().trim())).toBe(Math.min(19, base + 6))
    const same = await runTool('/bin/sh', ['-c', NICE_OF_CHILD], { timeoutMs: 10_000, nice: 0 })
    expect(Number(same.toString().trim())).toBe(base)
  })

  it("ffprobe and ffmpeg get the tools' nice: a stand-in ffprobe reports its own", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tool-nice-'))
    const seen = path.join(dir, 'nice')
    const ffprobe = path.join(dir, 'ffprobe')
    writeFileSync(ffprobe, `#!/bin/sh\n${NICE_OF_CHILD} > ${seen}\necho '{}'\n`)
    chmodSync(ffprobe, 0o755)
    const probed = await probe({ ffmpeg: path.join(dir, 'ffmpeg'), ffprobe, timeoutMs: 10_000, threads: 1, nice: 4 }, path.join(dir, 'input'))
    expect(probed).toMatchObject({ durationMs: null, video: undefined, audio: undefined })
    expect(Number(readFileSync(seen, 'utf8').trim())).toBe(Math.min(19, base + 4))
  })

  it('MEDIAGATE_TOOL_NICE is 10 by default, 0 to 19', () => {
    const real = { META_APP_SECRET: 'app-secret', MEDIAGATE_API_KEY: 'k'.repeat(32) }
    expect(loadConfig({ env: real }).toolNice).toBe(10)
    expect(loadConfig({ env: { ...real, MEDIAGATE_TOOL_NICE: '0' } }).toolNice).toBe(0)
    expect(() => loadConfig({ env: { ...real, MEDIAGATE_TOOL_NICE: '20' } })).toThrow(/MEDIAGATE_TOOL_NICE/)
    expect(() => loadConfig({ env: { ...real, MEDIAGATE_TOOL_NICE: '-1' } })).toThrow(/MEDIAGATE_TOOL_NICE/)
  })
})
