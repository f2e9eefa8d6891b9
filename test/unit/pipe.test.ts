import { PassThrough, Readable, Transform, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { pipeAsync } from '../../src/util/pipe.js'

function collector(delayFinalMs = 0): Writable & { bytes: Buffer[]; finalDone: boolean } {
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      sink.bytes.push(chunk)
      cb()
    },
    final(cb) {
      setTimeout(() => {
        sink.finalDone = true
        cb()
      }, delayFinalMs)
    },
  }) as Writable & { bytes: Buffer[]; finalDone: boolean }
  sink.bytes = []
  sink.finalDone = false
  return sink
}

describe('pipeAsync', () => {
  it('moves every byte through the chain and resolves only after the last stream finished', async () => {
    const sink = collector(20)
    const upper = new Transform({ transform: (c: Buffer, _e, cb) => cb(null, Buffer.from(c.toString().toUpperCase())) })
    await pipeAsync([Readable.from(['a', 'b', 'c'].map((s) => Buffer.from(s))), upper, sink])
    expect(sink.finalDone).toBe(true)
    expect(Buffer.concat(sink.bytes).toString()).toBe('ABC')
  })

  it('rejects with the first error and destroys every stream', async () => {
    const source = new PassThrough()
    const middle = new PassThrough()
    const sink = collector()
    const done = pipeAsync([source, middle, sink])
    source.write('x')
    middle.destroy(new Error('middle broke'))
    await expect(done).rejects.toThrow('middle broke')
    expect([source.destroyed, middle.destroyed, sink.destroyed]).toEqual([true, true, true])
  })

  it('treats a source that closes before its end as an error, not a short success', async () => {
    const source = new PassThrough()
    const sink = collector()
    const done = pipeAsync([source, sink])
    source.write('partial')
    source.destroy()
    await expect(done).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' })
  })

  it('stops on abort with the signal reason, also when already aborted', async () => {
    const controller = new AbortController()
    const source = new PassThrough()
    const sink = collector()
    const done = pipeAsync([source, sink], controller.signal)
    controller.abort(new Error('lease lost'))
    await expect(done).rejects.toThrow('lease lost')
    expect(source.destroyed && sink.destroyed).toBe(true)
    await expect(pipeAsync([new PassThrough(), collector()], AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone')
  })
})
