/** Progress output: a bar only on a terminal; plain lines on a pipe or file; nothing for no work. */
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { startProgress } from '../../src/cli/progress.js'

function pipeLike(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  Object.assign(stream, { isTTY, columns: 80, cursorTo: () => true, clearLine: () => true, moveCursor: () => true })
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

describe('startProgress', () => {
  it('writes plain lines without bar glyphs when the output is not a terminal', async () => {
    const out = pipeLike(false)
    const progress = startProgress('verify', 3, out.stream)
    progress.increment()
    progress.increment(2)
    progress.stop()
    await new Promise((r) => setImmediate(r))
    expect(out.text()).toMatch(/^verify: 3\/3 \(100%\), \d+ s\n$/)
    expect(out.text()).not.toMatch(/[█░]/)
  })

  it('prints nothing when there is nothing to do, on a terminal or not', async () => {
    for (const isTTY of [false, true]) {
      const out = pipeLike(isTTY)
      const progress = startProgress('capture', 0, out.stream)
      progress.stop()
      await new Promise((r) => setImmediate(r))
      expect(out.text(), `isTTY ${isTTY}`).toBe('')
    }
  })

  it('draws a bar on a terminal', async () => {
    const out = pipeLike(true)
    const progress = startProgress('migrate-data', 4, out.stream)
    progress.increment(4)
    progress.stop()
    await new Promise((r) => setImmediate(r))
    expect(out.text()).toContain('migrate-data [')
    expect(out.text()).toContain('4/4')
  })

  it('counts without a total when none is known (bytes of an unknown length)', async () => {
    const out = pipeLike(false)
    const progress = startProgress('fetch', 0, out.stream)
    progress.increment(1234)
    progress.stop()
    await new Promise((r) => setImmediate(r))
    expect(out.text()).toMatch(/^fetch: 1234, \d+ s\n$/)
  })
})
