/** X-Hub-Signature-256: over the raw bytes, any configured secret, nothing else accepted. */
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { signPayload, verifySignature } from '../../src/platforms/signature.js'

const body = readFileSync(new URL('../fixtures/webhooks/messenger-image.json', import.meta.url))
const SECRET = 'c0ffee5ecret0fTheMetaApp'

describe('signPayload', () => {
  it('is sha256= and the lowercase hex HMAC-SHA256 (RFC 4231-style known vector)', () => {
    expect(signPayload('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    )
  })

  it('signs strings and buffers of the same bytes alike', () => {
    expect(signPayload(body, SECRET)).toBe(signPayload(body.toString('utf8'), SECRET))
    expect(signPayload(body, SECRET)).toMatch(/^sha256=[0-9a-f]{64}$/)
  })
})

describe('verifySignature', () => {
  const good = signPayload(body, SECRET)

  it('accepts the signature of the raw body', () => {
    expect(verifySignature(body, good, [SECRET])).toBe(true)
  })

  it('refuses a signature made with another secret', () => {
    expect(verifySignature(body, signPayload(body, 'someone-else'), [SECRET])).toBe(false)
  })

  it('accepts any secret of a rotation, in any position', () => {
    const byOld = signPayload(body, 'old-secret')
    const byNew = signPayload(body, 'new-secret')
    expect(verifySignature(body, byOld, ['new-secret', 'old-secret'])).toBe(true)
    expect(verifySignature(body, byNew, ['new-secret', 'old-secret'])).toBe(true)
    expect(verifySignature(body, byOld, ['new-secret'])).toBe(false)
  })

  it('refuses the body changed by one byte, wherever it is', () => {
    for (const at of [0, 1, Math.floor(body.length / 2), body.length - 1]) {
      const changed = Buffer.from(body)
      changed[at] = changed[at]! ^ 0x01
      expect(verifySignature(changed, good, [SECRET]), `byte ${at}`).toBe(false)
    }
    expect(verifySignature(Buffer.concat([body, Buffer.from('\n')]), good, [SECRET])).toBe(false)
    expect(verifySignature(body.subarray(0, -1), good, [SECRET])).toBe(false)
  })

  it('refuses a re-serialized body: Meta escapes "/" and the HMAC covers the bytes as sent', () => {
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))))
    expect(reserialized.equals(body)).toBe(false)
    expect(verifySignature(reserialized, good, [SECRET])).toBe(false)
  })

  it('refuses a missing or empty header', () => {
    expect(verifySignature(body, undefined, [SECRET])).toBe(false)
    expect(verifySignature(body, '', [SECRET])).toBe(false)
  })

  it.each([
    ['garbage', 'sha256=zz'],
    ['no prefix', good.slice('sha256='.length)],
    ['one hex digit short', good.slice(0, -1)],
    ['one hex digit long', `${good}0`],
    ['a non-hex digit', `${good.slice(0, -1)}g`],
    ['a leading space', ` ${good}`],
    ['a trailing newline', `${good}\n`],
    ['an upper-case prefix', good.replace('sha256=', 'SHA256=')],
    ['two signatures', `${good},${good}`],
    ['the prefix only', 'sha256='],
  ])('refuses a malformed header (%s) without throwing', (_name, header) => {
    expect(verifySignature(body, header, [SECRET])).toBe(false)
  })

  it('accepts upper-case hex digits: they encode the same digest', () => {
    const upper = `sha256=${good.slice('sha256='.length).toUpperCase()}`
    expect(verifySignature(body, upper, [SECRET])).toBe(true)
  })

  it('ignores the legacy SHA-1 header format, even when its HMAC is right', () => {
    const sha1 = `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`
    expect(verifySignature(body, sha1, [SECRET])).toBe(false)
    expect(verifySignature(body, good.replace('sha256=', 'sha1='), [SECRET])).toBe(false)
  })

  it('refuses everything when no secret is configured, and never uses an empty one', () => {
    expect(verifySignature(body, good, [])).toBe(false)
    expect(verifySignature(body, signPayload(body, ''), [''])).toBe(false)
    expect(verifySignature(body, good, ['', SECRET])).toBe(true)
  })

  it('answers false, not an exception, to values of the wrong type from untyped callers', () => {
    const loose = verifySignature as (b: unknown, h: unknown, s: unknown) => boolean
    expect(loose(body, [good], [SECRET])).toBe(false)
    expect(loose(body, 42, [SECRET])).toBe(false)
    expect(loose(body.toString('utf8'), good, [SECRET])).toBe(false)
    expect(loose(null, good, [SECRET])).toBe(false)
    expect(loose(body, good, SECRET)).toBe(false)
    expect(loose(body, good, [42, SECRET])).toBe(true)
  })
})
