import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { HashingStream, normalizeExpectedSha256 } from '../../src/blobs/hashing-stream.js'
import { nullSink } from '../../src/blobs/null-sink.js'
import { MediagateError } from '../../src/errors.js'
import { chunkedSource } from './fixtures.js'

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

async function run(parts: (Buffer | string)[], options: ConstructorParameters<typeof HashingStream>[0] = {}) {
  const hasher = new HashingStream(options)
  const out: Buffer[] = []
  const error = await pipeline(
    Readable.from(parts),
    hasher,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const c of source) out.push(c)
    },
  ).then(
    () => undefined,
    (e: unknown) => e as MediagateError,
  )
  return { hasher, passed: Buffer.concat(out), error }
}

describe('HashingStream', () => {
  it('passes the bytes through unchanged while hashing and counting them', async () => {
    const { hasher, passed, error } = await run([Buffer.from('abc'), 'def', Buffer.alloc(0), Buffer.from([0, 255])])
    expect(error).toBeUndefined()
    expect(passed.equals(Buffer.concat([Buffer.from('abcdef'), Buffer.from([0, 255])]))).toBe(true)
    expect(hasher.bytes).toBe(8)
    expect(hasher.digest()).toBe(sha256(passed))
  })

  it('hashes nothing as the empty sha256', async () => {
    const { hasher } = await run([])
    expect(hasher.digest()).toBe(sha256(''))
    expect(hasher.bytes).toBe(0)
  })

  it('refuses to give a digest before the end', () => {
    expect(() => new HashingStream().digest()).toThrow(/before the stream ended/)
  })

  it('fails with too_large past maxBytes, not at it', async () => {
    expect((await run(['abcd'], { maxBytes: 4 })).error).toBeUndefined()
    const { error, hasher } = await run(['ab', 'cd', 'e', 'fgh'], { maxBytes: 4 })
    expect(error?.code).toBe('too_large')
    expect(hasher.bytes).toBe(5)
  })

  it('stops a long source soon after the limit', async () => {
    const src = chunkedSource(64 * 1024 * 1024)
    const hasher = new HashingStream({ maxBytes: 1024 * 1024 })
    await expect(pipeline(src.stream, hasher, nullSink())).rejects.toMatchObject({ code: 'too_large' })
    expect(src.state.sent).toBeLessThan(2 * 1024 * 1024)
  })

  it('checks the declared sha256 and size at the end, before signalling the end', async () => {
    const ok = await run(['hello'], { expectedSha256: sha256('hello').toUpperCase(), expectedSize: 5 })
    expect(ok.error).toBeUndefined()
    const wrongHash = await run(['hello'], { expectedSha256: sha256('hellO') })
    expect(wrongHash.error?.code).toBe('integrity')
    expect(wrongHash.error?.message).toContain(sha256('hello'))
    const short = await run(['hell'], { expectedSize: 5 })
    expect(short.error?.code).toBe('integrity')
    const long = await run(['hel', 'lo!', 'more'], { expectedSize: 5 })
    expect(long.error?.code).toBe('integrity')
    expect(long.hasher.bytes).toBe(6)
  })

  it('fails as soon as more than the declared size arrives, without waiting for the end', async () => {
    const src = chunkedSource(64 * 1024 * 1024)
    await expect(pipeline(src.stream, new HashingStream({ expectedSize: 100_000 }), nullSink())).rejects.toMatchObject({ code: 'integrity' })
    expect(src.state.sent).toBeLessThan(1024 * 1024)
  })

  it('takes a whole buffer with the same checks and messages as the stream', async () => {
    const whole = (bytes: string, options: ConstructorParameters<typeof HashingStream>[0]) => {
      const hasher = new HashingStream(options)
      try {
        hasher.whole(Buffer.from(bytes))
        return { hasher, error: undefined }
      } catch (err) {
        return { hasher, error: err as MediagateError }
      }
    }
    const ok = whole('hello', { expectedSha256: sha256('hello').toUpperCase(), expectedSize: 5, maxBytes: 5 })
    expect(ok.error).toBeUndefined()
    expect(ok.hasher.digest()).toBe(sha256('hello'))
    expect(ok.hasher.bytes).toBe(5)
    const cases: [string, ConstructorParameters<typeof HashingStream>[0], string][] = [
      ['hello', { expectedSha256: sha256('hellO') }, 'integrity'],
      ['hell', { expectedSize: 5 }, 'integrity'],
      ['hello!', { expectedSize: 5 }, 'integrity'],
      ['hello', { maxBytes: 4 }, 'too_large'],
    ]
    for (const [bytes, options, code] of cases) {
      const streamed = await run([bytes], options)
      const taken = whole(bytes, options)
      expect(taken.error?.code, JSON.stringify(options)).toBe(code)
      expect(taken.error?.message).toBe(streamed.error?.message)
    }
  })

  it('validates its options', () => {
    expect(() => new HashingStream({ expectedSha256: 'abc' })).toThrow(MediagateError)
    expect(() => new HashingStream({ expectedSize: -1 })).toThrow(/expectedSize/)
    expect(() => new HashingStream({ expectedSize: 1.5 })).toThrow(/expectedSize/)
    expect(() => new HashingStream({ maxBytes: Number.NaN })).toThrow(/maxBytes/)
    expect(normalizeExpectedSha256('AB'.repeat(32))).toBe('ab'.repeat(32))
    expect(normalizeExpectedSha256(undefined)).toBeUndefined()
  })
})
