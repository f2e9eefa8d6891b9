import { describe, expect, it } from 'vitest'
import { readCookie, sessionCookie } from '../../src/serve/cookies.js'
import { issueSessionToken, revokeSessionToken, SESSION_TTL_MS, verifySessionToken } from '../../src/serve/session-token.js'

const KEY = 'dashboard-test-key-0123456789'

describe('session tokens', () => {
  it('verifies a token issued under the same key, and never contains the key', () => {
    const { token, expiresAt } = issueSessionToken(KEY)
    expect(verifySessionToken(token, KEY)).toBe(true)
    expect(token).not.toContain(KEY)
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + SESSION_TTL_MS - 2000)
  })

  it('refuses another key, no key, and a tampered token', () => {
    const { token } = issueSessionToken(KEY)
    expect(verifySessionToken(token, 'another-key')).toBe(false)
    expect(verifySessionToken(token, undefined)).toBe(false)
    const [exp, nonce, mac] = token.split('.') as [string, string, string]
    expect(verifySessionToken(`${Number(exp) + 1}.${nonce}.${mac}`, KEY)).toBe(false)
    expect(verifySessionToken(`${exp}.${nonce}x.${mac}`, KEY)).toBe(false)
    const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`
    expect(verifySessionToken(`${exp}.${nonce}.${flipped}`, KEY)).toBe(false)
    for (const junk of ['', 'x', '1.2.3', `${exp}.${nonce}`, `${token}.extra`]) expect(verifySessionToken(junk, KEY)).toBe(false)
  })

  it('expires', () => {
    const issuedAt = Date.now()
    const { token } = issueSessionToken(KEY, issuedAt)
    expect(verifySessionToken(token, KEY, issuedAt + SESSION_TTL_MS - 5000)).toBe(true)
    expect(verifySessionToken(token, KEY, issuedAt + SESSION_TTL_MS + 1000)).toBe(false)
  })

  it('refuses a token claiming a life longer than any issued one', () => {
    const { token } = issueSessionToken(KEY, Date.now() + 10 * SESSION_TTL_MS)
    expect(verifySessionToken(token, KEY)).toBe(false)
  })

  it('refuses a revoked token and keeps accepting others', () => {
    const a = issueSessionToken(KEY).token
    const b = issueSessionToken(KEY).token
    revokeSessionToken(a)
    expect(verifySessionToken(a, KEY)).toBe(false)
    expect(verifySessionToken(b, KEY)).toBe(true)
  })
})

describe('cookies', () => {
  it('reads one cookie among several', () => {
    expect(readCookie('a=1; mediagate_session=abc.def; b=2', 'mediagate_session')).toBe('abc.def')
    expect(readCookie('xmediagate_session=1', 'mediagate_session')).toBeUndefined()
    expect(readCookie(undefined, 'a')).toBeUndefined()
    expect(readCookie('a="q"', 'a')).toBe('q')
  })

  it('writes HttpOnly, SameSite=Strict, Path=/ and Secure only when asked', () => {
    const plain = sessionCookie('s', 'v', { maxAgeSeconds: 60, secure: false })
    expect(plain).toBe('s=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60')
    expect(sessionCookie('s', '', { maxAgeSeconds: 0, secure: true })).toBe('s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure')
  })
})
