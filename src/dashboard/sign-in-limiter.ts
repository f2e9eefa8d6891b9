/**
 * Failed dashboard sign-ins per client address, so the API key cannot be guessed at the speed
 * of the network: after `failures` wrong keys within `windowMs` of the first one, every sign-in
 * from that address (a right key included, or the limit would only hide which guess was right)
 * is refused until the window ends.
 *
 * In memory, per process: behind a load balancer each process counts on its own, so an address
 * gets `failures` tries per window from each. The table is bounded; when it is full of addresses
 * still inside their window it refuses newcomers rather than forgetting anyone, since forgetting
 * an address would hand it a fresh budget.
 */
import { isIPv6 } from 'node:net'

export interface SignInLimits {
  /** Wrong keys allowed per address and window; default 10. */
  failures: number
  /** Default one minute. */
  windowMs: number
  /** Addresses tracked at once; default 10,000. */
  maxAddresses: number
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { failures: 10, windowMs: 60_000, maxAddresses: 10_000 }

interface Window {
  failures: number
  endsAt: number
}

export class SignInLimiter {
  private readonly limits: SignInLimits
  private readonly now: () => number
  /** In order of window start (a renewed window is moved to the end), so expired ones come first. */
  private readonly windows = new Map<string, Window>()

  constructor(limits: Partial<SignInLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_SIGN_IN_LIMITS, ...limits }
    this.now = now
  }

  /** Milliseconds this address must wait before its next sign-in; 0 when it may try now. */
  waitFor(address: string): number {
    const now = this.now()
    const key = addressKey(address)
    const window = this.windows.get(key)
    if (window && window.endsAt > now) return window.failures >= this.limits.failures ? window.endsAt - now : 0
    if (window) this.windows.delete(key)
    this.forgetExpired(now)
    if (this.windows.size < this.limits.maxAddresses) return 0
    // Full of live windows: the newcomer waits until the oldest one ends.
    const oldest = this.windows.values().next().value!
    return Math.max(1, oldest.endsAt - now)
  }

  failed(address: string): void {
    const now = this.now()
    const key = addressKey(address)
    const window = this.windows.get(key)
    if (window && window.endsAt > now) {
      window.failures++
      return
    }
    this.windows.delete(key)
    this.forgetExpired(now)
    if (this.windows.size >= this.limits.maxAddresses) return
    this.windows.set(key, { failures: 1, endsAt: now + this.limits.windowMs })
  }

  succeeded(address: string): void {
    this.windows.delete(addressKey(address))
  }

  private forgetExpired(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.endsAt > now) break
      this.windows.delete(key)
    }
  }
}

/**
 * What is counted: an IPv4 address, or an IPv6 address's /64 (one subscriber's prefix: counting
 * single IPv6 addresses would give anyone with a prefix 2^64 budgets).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped) return mapped[1]!
  const bare = address.split('%')[0]!
  if (!isIPv6(bare)) return address
  const [head = '', tail] = bare.split('::') as [string, string | undefined]
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  // An embedded IPv4 tail (::1.2.3.4) lies past the first 64 bits: only its count matters here.
  const count = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0)
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - count(headGroups) - count(tailGroups)).fill('0'), ...tailGroups]
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`
}
