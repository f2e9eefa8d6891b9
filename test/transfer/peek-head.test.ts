/**
 * peekHead hands back a stream that still starts at byte 0, also when the whole body (and its
 * end) had already arrived before the head was read: the Fetcher's bodies are pushed as the
 * connection delivers them, so a 30 KiB photo is often complete before anyone reads it.
 */
import { randomBytes } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { peekHead } from '../../src/transfer/peek-head.js'
import { pipeAsync } from '../../src/util/pipe.js'

async function piped(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  const sink = new PassThrough()
  sink.on('data', (part: Buffer) => parts.push(part))
  await pipeAsync([stream, sink])
  return Buffer.concat(parts)
}

describe('peekHead', () => {
  it('gives back every byte of a source whose end had arrived before the peek (piped afterwards)', async () => {
    const data = randomBytes(30_000)
    const source = new Readable({ read() {} })
    source.push(data)
    source.push(null)
    const { head, body } = await peekHead(source, 4100)
    expect(head).toEqual(data.subarray(0, 4100))
    expect(await piped(body)).toEqual(data)
  })

  it('gives back a body shorter than the head it asked for', async () => {
    const data = randomBytes(1000)
    const { head, body } = await peekHead(Readable.from([data]), 4100)
    expect(head).toEqual(data)
    expect(await piped(body)).toEqual(data)
  })
})
