import { describe, expect, it } from 'vitest'
import { MediagateError } from '../../src/errors.js'
import { HostPolicy, canonicalHost, hostMatchesAny } from '../../src/fetch/host-policy.js'

describe('HostPolicy suffix matching', () => {
  const policy = new HostPolicy(['fbcdn.net', 'FBSBX.com.', '*.cdninstagram.com'])

  it.each([
    ['fbcdn.net', true],
    ['x.fbcdn.net', true],
    ['scontent-ams4-1.xx.fbcdn.net', true],
    ['X.FBCDN.NET', true],
    ['x.fbcdn.net.', true],
    ['lookaside.fbsbx.com', true],
    ['scontent.cdninstagram.com', true],
    ['cdninstagram.com', true],
    ['evilfbcdn.net', false],
    ['fbcdn.net.evil.com', false],
    ['fbcdn.network', false],
    ['xfbsbx.com', false],
    ['net', false],
    ['', false],
  ])('%s → %s', (host, allowed) => {
    expect(policy.allows(host)).toBe(allowed)
  })

  it('never treats a dotted name as explicitly listed, even an exact match', () => {
    expect(policy.isExplicit('fbcdn.net')).toBe(false)
    expect(policy.isExplicit('x.fbcdn.net')).toBe(false)
  })
})

describe('HostPolicy explicit entries', () => {
  const policy = new HostPolicy(['127.0.0.1', 'localhost', '::1', '[fd00::5]'])

  it('IP literals and single-label names are explicit and match only themselves', () => {
    expect(policy.isExplicit('127.0.0.1')).toBe(true)
    expect(policy.isExplicit('localhost')).toBe(true)
    expect(policy.isExplicit('LOCALHOST.')).toBe(true)
    expect(policy.isExplicit('[::1]')).toBe(true)
    expect(policy.isExplicit('0:0:0:0:0:0:0:1')).toBe(true)
    expect(policy.isExplicit('fd00:0::5')).toBe(true)
    expect(policy.allows('a.localhost')).toBe(false)
    expect(policy.allows('127.0.0.2')).toBe(false)
    expect(policy.allows('1.127.0.0.1')).toBe(false)
  })

  it('compares IPv4 literals in canonical form (URL parsing turns 0x7f.1 into 127.0.0.1)', () => {
    expect(policy.isExplicit('0x7f.1')).toBe(true)
    expect(policy.isExplicit('2130706433')).toBe(true)
    expect(new HostPolicy(['127.1']).isExplicit('127.0.0.1')).toBe(true)
  })

  it('rejects entries that are not hosts', () => {
    for (const bad of ['https://fbcdn.net', 'fbcdn.net/path', '', 'a b', 'user@host']) {
      expect(() => new HostPolicy([bad])).toThrowError(MediagateError)
    }
  })
})

describe('canonicalHost and hostMatchesAny', () => {
  it('normalizes case, trailing dots, brackets and IPv6 spelling', () => {
    expect(canonicalHost('X.Example.COM..')).toBe('x.example.com')
    expect(canonicalHost('[::FFFF:10.0.0.1]')).toBe('::ffff:a00:1')
    expect(canonicalHost('a/b')).toBeUndefined()
  })

  it('matches token hosts like the allowlist', () => {
    expect(hostMatchesAny('lookaside.fbsbx.com', ['graph.facebook.com', 'fbsbx.com'])).toBe(true)
    expect(hostMatchesAny('graph.facebook.com', ['graph.facebook.com'])).toBe(true)
    expect(hostMatchesAny('www.facebook.com', ['graph.facebook.com', 'fbsbx.com'])).toBe(false)
    expect(hostMatchesAny('127.0.0.2', ['127.0.0.1'])).toBe(false)
    expect(hostMatchesAny('anything', [])).toBe(false)
  })
})
