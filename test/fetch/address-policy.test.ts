import type { LookupAddress, LookupOptions } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { describe, expect, it } from 'vitest'
import { MediagateError } from '../../src/errors.js'
import { guardLookup, isPublicAddress } from '../../src/fetch/address-policy.js'

describe('isPublicAddress', () => {
  it.each([
    '10.0.0.5', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', '127.0.0.2',
    '169.254.169.254', '0.0.0.0', '255.255.255.255', '224.0.0.1', '100.64.0.1', '240.0.0.1',
    '192.0.2.1', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1',
    '::ffff:10.0.0.1', '::ffff:127.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::',
    '2001:db8::1', 'not-an-ip', '',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false)
  })

  it.each(['8.8.8.8', '157.240.1.1', '172.32.0.1', '2a03:2880:f003::1', '::ffff:8.8.8.8'])('admits %s', (address) => {
    expect(isPublicAddress(address)).toBe(true)
  })

  // IPv4-compatible addresses (::/96) reach the embedded IPv4 on some stacks: all refused,
  // whichever way they are written, public IPv4 inside or not.
  it.each(['::7f00:1', '::127.0.0.1', '::a9fe:a9fe', '::169.254.169.254', '::a00:1', '::c0a8:101', '::808:808', '::8.8.8.8', '0:0:0:0:0:0:7f00:1'])(
    'refuses the IPv4-compatible %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(false)
    },
  )

  // NAT64 (64:ff9b::/96) is judged by the IPv4 it embeds: DNS64 networks keep working for public
  // hosts, a private one stays refused. The local-use prefix 64:ff9b:1::/48 is never public.
  it.each(['64:ff9b::7f00:1', '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b::169.254.169.254', '64:ff9b::a00:1', '64:ff9b::c0a8:101', '64:ff9b::6440:1', '64:ff9b::', '64:ff9b:1::808:808', '64:ff9b:1:2::9df0:101', '64:ff9b:2::808:808'])(
    'refuses the NAT64 address %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(false)
    },
  )

  it.each(['64:ff9b::808:808', '64:ff9b::8.8.8.8', '64:ff9b::9df0:101'])('admits the NAT64 address %s of a public IPv4', (address) => {
    expect(isPublicAddress(address)).toBe(true)
  })

  it.each(['fe80::1%eth0', '2a03:2880:f003::1%1', '::ffff:1.2.3', '1.2.3.4.5'])('refuses the malformed or scoped %s', (address) => {
    expect(isPublicAddress(address)).toBe(false)
  })
})

type Answer = LookupAddress[] | { address: string; family: number }

function stubLookup(answer: Answer): LookupFunction & { calls: { hostname: string; options: LookupOptions }[] } {
  const calls: { hostname: string; options: LookupOptions }[] = []
  const fn = ((hostname: string, options: LookupOptions, cb: (e: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void) => {
    calls.push({ hostname, options })
    if (Array.isArray(answer)) cb(null, answer)
    else cb(null, answer.address, answer.family)
  }) as LookupFunction & { calls: typeof calls }
  fn.calls = calls
  return fn
}

function run(lookup: LookupFunction, hostname: string, options: LookupOptions): Promise<{ err: unknown; address: unknown; family: unknown }> {
  return new Promise((resolve) => lookup(hostname, options, (err, address, family) => resolve({ err, address, family })))
}

describe('guardLookup', () => {
  const never = () => false

  it('asks the inner resolver for all addresses and answers in the shape asked for', async () => {
    const inner = stubLookup([{ address: '8.8.8.8', family: 4 }, { address: '2a03:2880:f003::1', family: 6 }])
    const guarded = guardLookup(inner, never)
    const one = await run(guarded, 'cdn.example', {})
    expect(one).toMatchObject({ err: null, address: '8.8.8.8', family: 4 })
    const all = await run(guarded, 'cdn.example', { all: true })
    expect(all.address).toHaveLength(2)
    expect(inner.calls.every((c) => c.options.all === true)).toBe(true)
  })

  it('refuses the whole answer when any address is not public', async () => {
    const guarded = guardLookup(stubLookup([{ address: '8.8.8.8', family: 4 }, { address: '10.0.0.5', family: 4 }]), never)
    const { err } = await run(guarded, 'cdn.example', { all: true })
    expect(err).toBeInstanceOf(MediagateError)
    expect((err as MediagateError).code).toBe('address_refused')
    expect((err as MediagateError).message).toContain('10.0.0.5')
  })

  it('accepts a single-address answer from a resolver that ignores `all`', async () => {
    const refused = await run(guardLookup(stubLookup({ address: '::ffff:169.254.169.254', family: 6 }), never), 'x', { all: true })
    expect((refused.err as MediagateError).code).toBe('address_refused')
    const ok = await run(guardLookup(stubLookup({ address: '8.8.4.4', family: 4 }), never), 'x', { all: true })
    expect(ok.address).toEqual([{ address: '8.8.4.4', family: 4 }])
  })

  it('refuses an IPv4-compatible answer and admits a DNS64 answer for a public IPv4', async () => {
    for (const address of ['::7f00:1', '::a9fe:a9fe', '64:ff9b::a9fe:a9fe']) {
      const { err } = await run(guardLookup(stubLookup([{ address, family: 6 }]), never), 'scontent.xx.fbcdn.net', { all: true })
      expect((err as MediagateError).code, address).toBe('address_refused')
    }
    const ok = await run(guardLookup(stubLookup([{ address: '64:ff9b::9df0:101', family: 6 }]), never), 'scontent.xx.fbcdn.net', {})
    expect(ok).toMatchObject({ err: null, address: '64:ff9b::9df0:101', family: 6 })
  })

  it('admits any address for a host the policy admits', async () => {
    const guarded = guardLookup(stubLookup([{ address: '127.0.0.1', family: 4 }]), (h) => h === 'localhost')
    expect((await run(guarded, 'localhost', {})).address).toBe('127.0.0.1')
    expect(((await run(guarded, 'other', {})).err as MediagateError).code).toBe('address_refused')
  })

  it('passes resolver errors through and treats an empty answer as not found', async () => {
    const failing: LookupFunction = (_h, _o, cb) => cb(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }), '')
    expect(((await run(guardLookup(failing, never), 'x', {})).err as NodeJS.ErrnoException).code).toBe('ENOTFOUND')
    expect(((await run(guardLookup(stubLookup([]), never), 'x', {})).err as NodeJS.ErrnoException).code).toBe('ENOTFOUND')
  })
})
