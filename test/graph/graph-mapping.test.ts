import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MediagateError } from '../../src/errors.js'
import { downloadError, parseRetryAfter } from '../../src/fetch/index.js'
import { graphError, normalizeSha256, parseGraphEnvelope, redactToken } from '../../src/platforms/graph/index.js'
import { parseMediaInfo } from '../../src/platforms/graph/media-info.js'

const digest = createHash('sha256').update('hello').digest()
const HEX = digest.toString('hex')

describe('normalizeSha256', () => {
  it('accepts hex in either case and base64 in standard or url-safe form, with or without padding', () => {
    expect(normalizeSha256(HEX)).toBe(HEX)
    expect(normalizeSha256(HEX.toUpperCase())).toBe(HEX)
    expect(normalizeSha256(` ${HEX}\n`)).toBe(HEX)
    expect(normalizeSha256(digest.toString('base64'))).toBe(HEX)
    expect(normalizeSha256(digest.toString('base64').replace(/=$/, ''))).toBe(HEX)
    expect(normalizeSha256(digest.toString('base64url'))).toBe(HEX)
  })

  it('refuses anything else', () => {
    for (const bad of ['', 'abc', HEX.slice(1), `${HEX}0`, Buffer.alloc(31).toString('base64'), Buffer.alloc(33).toString('base64'), 'g'.repeat(64), '!'.repeat(44)]) {
      expect(normalizeSha256(bad), bad).toBeNull()
    }
  })

  it("reads Meta's example base64 shape", () => {
    const b64 = createHash('sha256').update('x').digest('base64')
    expect(normalizeSha256(b64)).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('7')).toBe(7000)
    expect(parseRetryAfter(['1.5'])).toBe(1500)
    const now = Date.parse('2026-10-01T00:00:00Z')
    expect(parseRetryAfter('Thu, 01 Oct 2026 00:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Wed, 30 Sep 2026 00:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(undefined)).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter('-3')).toBeUndefined()
  })
})

describe('graphError', () => {
  const env = (code: number, subcode?: number) => ({ code, message: `(#${code}) something`, fbtraceId: 'Abc123', ...(subcode !== undefined ? { subcode } : {}) })
  const map = (status: number, envelope: ReturnType<typeof env> | undefined, retryAfter?: string) =>
    graphError({ status, envelope, retryAfter, what: 'lookup of media 1', accessToken: 'TOKEN' })

  it.each([
    [401, env(190), 'auth', 190],
    [400, env(0), 'auth', 0],
    [401, undefined, 'auth', 401],
    [400, env(4), 'rate_limited', 4],
    [429, env(4), 'rate_limited', 4],
    [400, env(80007), 'rate_limited', 80007],
    [400, env(130429), 'rate_limited', 130429],
    [429, undefined, 'rate_limited', 429],
    [400, env(100, 33), 'source_expired', 100],
    [400, env(100), 'source_expired', 100],
    [404, undefined, 'source_expired', 404],
    [400, env(100, 2018001), 'source_rejected', 100],
    [403, env(10), 'source_rejected', 10],
    [400, env(131053), 'source_rejected', 131053],
    [500, env(1), 'upstream', 1],
    [503, env(2), 'upstream', 2],
    [502, undefined, 'upstream', 502],
  ])('HTTP %i %o → %s', (status, envelope, code, vendorCode) => {
    const err = map(status, envelope)
    expect(err).toBeInstanceOf(MediagateError)
    expect(err.code).toBe(code)
    expect(err.vendorCode).toBe(vendorCode)
  })

  it('carries Retry-After on rate limits and Meta\'s trace id in the message', () => {
    const err = map(400, env(130429), '12')
    expect(err.retryAfterMs).toBe(12_000)
    expect(err.retryable).toBe(true)
    expect(err.message).toContain('fbtrace_id Abc123')
    expect(map(400, env(4)).retryAfterMs).toBeUndefined()
  })

  it('never repeats the access token Meta echoed', () => {
    const err = graphError({ status: 400, envelope: { code: 190, message: 'Malformed access token EAAGm0PX4ZCpsBAsecretsecret and TOKEN' }, retryAfter: undefined, what: 'x', accessToken: 'TOKEN' })
    expect(err.message).not.toContain('TOKEN')
    expect(err.message).not.toContain('EAAGm0PX4ZCpsBAsecretsecret')
    expect(redactToken('a TOKEN b', 'TOKEN')).toBe('a [token] b')
  })
})

describe('parseGraphEnvelope', () => {
  it('reads the documented envelope, with codes as numbers or strings', () => {
    const body = JSON.stringify({ error: { message: 'm', type: 'OAuthException', code: '190', error_subcode: 463, fbtrace_id: 'T' } })
    expect(parseGraphEnvelope(body)).toEqual({ message: 'm', type: 'OAuthException', code: 190, subcode: 463, fbtraceId: 'T' })
    expect(parseGraphEnvelope('not json')).toBeUndefined()
    expect(parseGraphEnvelope('{"error":"x"}')).toBeUndefined()
    expect(parseGraphEnvelope('null')).toBeUndefined()
  })
})

describe('downloadError', () => {
  const graphUrl = { where: 'https://lookaside.fbsbx.com/x?…', renewable: true }
  const cdnUrl = { where: 'https://scontent.xx.fbcdn.net/x?…', renewable: false }

  it.each([401, 403, 404, 410])('HTTP %i → source_expired, retryable by re-resolving', (status) => {
    const err = downloadError(status, undefined, graphUrl)
    expect(err.code).toBe('source_expired')
    expect(err.retryable).toBe(true)
    expect(err.vendorCode).toBe(status)
  })

  it.each([403, 404, 410])('HTTP %i from a CDN URL with nothing to renew it → source_expired, not retryable', (status) => {
    const err = downloadError(status, undefined, cdnUrl)
    expect(err.code).toBe('source_expired')
    expect(err.retryable).toBe(false)
    expect(err.vendorCode).toBe(status)
  })

  it('maps 429, 5xx and other 4xx', () => {
    expect(downloadError(429, '3', graphUrl)).toMatchObject({ code: 'rate_limited', retryAfterMs: 3000 })
    expect(downloadError(503, undefined, graphUrl)).toMatchObject({ code: 'upstream', vendorCode: 503 })
    expect(downloadError(400, undefined, graphUrl)).toMatchObject({ code: 'source_rejected', vendorCode: 400 })
  })

  it('honours Retry-After as seconds or as an HTTP date, for Graph URLs and CDN URLs alike', () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString()
    for (const context of [graphUrl, cdnUrl]) {
      expect(downloadError(429, '7', context).retryAfterMs).toBe(7000)
      const dated = downloadError(429, inAMinute, context).retryAfterMs
      expect(dated).toBeGreaterThan(55_000)
      expect(dated).toBeLessThanOrEqual(60_000)
    }
  })
})

describe('parseMediaInfo', () => {
  it('reads file_size as a string or a number', () => {
    const base = { url: 'https://lookaside.fbsbx.com/x', mime_type: 'image/jpeg', sha256: HEX, id: '1' }
    expect(parseMediaInfo({ ...base, file_size: '303833' }, '1', 'w').fileSize).toBe(303833)
    expect(parseMediaInfo({ ...base, file_size: 49664 }, '1', 'w').fileSize).toBe(49664)
    expect(parseMediaInfo({ ...base, file_size: 'big' }, '1', 'w').fileSize).toBeNull()
    expect(parseMediaInfo({ ...base, file_size: -1 }, '1', 'w').fileSize).toBeNull()
    expect(parseMediaInfo({ url: base.url }, '9', 'w')).toEqual({ id: '9', url: base.url, mimeType: '', sha256: '', fileSize: null })
  })

  it('refuses an answer without a usable url as upstream', () => {
    for (const bad of [{}, { url: '' }, { url: 'javascript:alert(1)' }, { url: 42 }, null, 'x']) {
      expect(() => parseMediaInfo(bad, '1', 'w')).toThrowError(expect.objectContaining({ code: 'upstream' }))
    }
  })
})
