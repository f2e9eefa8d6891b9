/** Failed sign-ins per address, on a clock the test moves: windows, resets, the bounded table, IPv6 prefixes. */
import { describe, expect, it } from 'vitest'
import { addressKey, SignInLimiter } from '../../src/dashboard/sign-in-limiter.js'

function limiter(limits: ConstructorParameters<typeof SignInLimiter>[0] = {}) {
  const clock = { now: 1_000_000 }
  return { clock, limiter: new SignInLimiter(limits, () => clock.now) }
}

describe('SignInLimiter', () => {
  it('blocks an address after its 10th failure in a minute until the minute is over', () => {
    const { clock, limiter: l } = limiter()
    for (let i = 0; i < 10; i++) {
      expect(l.waitFor('192.0.2.1')).toBe(0)
      l.failed('192.0.2.1')
      clock.now += 1000
    }
    expect(l.waitFor('192.0.2.1')).toBe(50_000)
    expect(l.waitFor('192.0.2.2')).toBe(0)
    clock.now += 49_999
    expect(l.waitFor('192.0.2.1')).toBe(1)
    clock.now += 1
    expect(l.waitFor('192.0.2.1')).toBe(0)
    // A new window, with the whole budget.
    for (let i = 0; i < 9; i++) l.failed('192.0.2.1')
    expect(l.waitFor('192.0.2.1')).toBe(0)
    l.failed('192.0.2.1')
    expect(l.waitFor('192.0.2.1')).toBe(60_000)
  })

  it('a successful sign-in clears the address', () => {
    const { limiter: l } = limiter()
    for (let i = 0; i < 9; i++) l.failed('192.0.2.1')
    l.succeeded('192.0.2.1')
    for (let i = 0; i < 9; i++) l.failed('192.0.2.1')
    expect(l.waitFor('192.0.2.1')).toBe(0)
  })

  it('when full of live windows, refuses newcomers instead of forgetting anyone; expired windows make room', () => {
    const { clock, limiter: l } = limiter({ failures: 2, maxAddresses: 3 })
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      l.failed(a)
      l.failed(a)
      clock.now += 1000
    }
    // A flood of other addresses neither gets a budget nor pushes the blocked ones out.
    for (let i = 0; i < 100; i++) {
      expect(l.waitFor(`10.0.1.${i}`)).toBeGreaterThan(0)
      l.failed(`10.0.1.${i}`)
    }
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) expect(l.waitFor(a)).toBeGreaterThan(0)
    clock.now += 57_000
    expect(l.waitFor('10.0.0.1')).toBe(0)
    expect(l.waitFor('10.0.0.2')).toBeGreaterThan(0)
    expect(l.waitFor('10.0.1.1')).toBe(0)
  })

  it('counts an IPv6 address by its /64 and an IPv4-mapped address as IPv4', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:2::ffff')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:0DB8:0001:0002:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7')
    const { limiter: l } = limiter({ failures: 1 })
    l.failed('2001:db8:1:2::1')
    expect(l.waitFor('2001:db8:1:2::9999')).toBeGreaterThan(0)
    expect(l.waitFor('2001:db8:1:3::1')).toBe(0)
  })
})
