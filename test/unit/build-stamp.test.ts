/** `npm start` rebuilds only when an input of the build changed (scripts/build-stamp.mjs), run on a copy. */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const dir = mkdtempSync(path.join(tmpdir(), 'mediagate-stamp-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function check(): number {
  try {
    execFileSync(process.execPath, [path.join(dir, 'scripts/build-stamp.mjs'), 'check'])
    return 0
  } catch (err) {
    return (err as { status: number }).status
  }
}

describe('build stamp', () => {
  it('is stale without a stamp, fresh after one is written, and stale again once a source changes', () => {
    mkdirSync(path.join(dir, 'scripts'))
    mkdirSync(path.join(dir, 'src/serve'), { recursive: true })
    mkdirSync(path.join(dir, 'dist'))
    copyFileSync(new URL('../../scripts/build-stamp.mjs', import.meta.url), path.join(dir, 'scripts/build-stamp.mjs'))
    writeFileSync(path.join(dir, 'package.json'), '{}')
    const source = path.join(dir, 'src/serve/a.ts')
    writeFileSync(source, 'export {}\n')
    const past = new Date(Date.now() - 60_000)
    for (const p of ['scripts/build-stamp.mjs', 'package.json', 'src/serve/a.ts', 'src/serve', 'src', 'scripts']) utimesSync(path.join(dir, p), past, past)
    expect(check()).toBe(1)
    execFileSync(process.execPath, [path.join(dir, 'scripts/build-stamp.mjs'), 'write'])
    expect(check()).toBe(0)
    const future = new Date(Date.now() + 60_000)
    utimesSync(source, future, future)
    expect(check()).toBe(1)
  })
})
