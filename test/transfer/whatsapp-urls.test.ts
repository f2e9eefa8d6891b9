/**
 * The WhatsApp URL cache on its own, with a clock of the test's: lifetimes (its own cap, the URL's
 * `ext`), shared lookups, failures never kept, forgetting, the bound, and callers' signals.
 */
import { describe, expect, it } from 'vitest'
import type { MediaInfo } from '../../src/platforms/graph/index.js'
import { ownLifetimeMs, WhatsAppUrlCache } from '../../src/transfer/whatsapp-urls.js'

const MINUTE = 60_000
const T0 = 1_800_000_000_000

function setup(options: { maxEntries?: number } = {}) {
  let now = T0
  const cache = new WhatsAppUrlCache({ now: () => now, ...options })
  let lookups = 0
  const info = (id: string, url = `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=${id}`): MediaInfo => ({ id, url, mimeType: 'image/jpeg', sha256: '', fileSize: 1 })
  const lookup = (id: string, url?: string) => async () => {
    lookups++
    return info(id, url)
  }
  const signal = new AbortController().signal
  return {
    cache,
    signal,
    lookup,
    lookups: () => lookups,
    advance: (ms: number) => (now += ms),
  }
}

describe('WhatsAppUrlCache', () => {
  it('keeps a URL without an expiry of its own for 4 minutes, per account and media', async () => {
    const t = setup()
    const first = await t.cache.resolve('111', 'm1', t.lookup('m1'), t.signal)
    expect(first.reused).toBe(false)
    t.advance(4 * MINUTE - 1)
    expect((await t.cache.resolve('111', 'm1', t.lookup('m1'), t.signal)).reused).toBe(true)
    // Another account's token: its own lookup.
    expect((await t.cache.resolve('222', 'm1', t.lookup('m1'), t.signal)).reused).toBe(false)
    expect(t.lookups()).toBe(2)
    t.advance(1)
    expect((await t.cache.resolve('111', 'm1', t.lookup('m1'), t.signal)).reused).toBe(false)
    expect(t.lookups()).toBe(3)
  })

  it('keeps a URL less long when its `ext` says it expires sooner, and not at all when it is already too old', async () => {
    const t = setup()
    const soon = `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=m2&ext=${(T0 + MINUTE) / 1000}&hash=x`
    await t.cache.resolve(null, 'm2', t.lookup('m2', soon), t.signal)
    t.advance(47_000)
    expect((await t.cache.resolve(null, 'm2', t.lookup('m2', soon), t.signal)).reused).toBe(true)
    t.advance(1_000)
    expect((await t.cache.resolve(null, 'm2', t.lookup('m2', soon), t.signal)).reused).toBe(false)
    const stale = `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=m3&ext=${T0 / 1000 - 10}&hash=x`
    await t.cache.resolve(null, 'm3', t.lookup('m3', stale), t.signal)
    expect(t.cache.size).toBe(1)
  })

  it('reads `ext` as an expiry only when it is one', () => {
    const url = (ext: string) => `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=${ext}&hash=x`
    expect(ownLifetimeMs(url(String((T0 + 5 * MINUTE) / 1000)), T0)).toBe(4 * MINUTE)
    expect(ownLifetimeMs(url(String((T0 + 10_000) / 1000)), T0)).toBe(8_000)
    expect(ownLifetimeMs(url('jpg'), T0)).toBe(Infinity)
    expect(ownLifetimeMs('https://cdn.example/media.jpg', T0)).toBe(Infinity)
    expect(ownLifetimeMs('not a url', T0)).toBe(Infinity)
  })

  it('shares one lookup between concurrent callers and keeps no failure', async () => {
    const t = setup()
    let release!: (info: MediaInfo) => void
    let calls = 0
    const slow = async () => {
      calls++
      return new Promise<MediaInfo>((resolve) => (release = resolve))
    }
    const all = Array.from({ length: 10 }, () => t.cache.resolve(null, 'm4', slow, t.signal))
    await Promise.resolve()
    release({ id: 'm4', url: 'https://lookaside.fbsbx.com/x?mid=m4', mimeType: '', sha256: '', fileSize: null })
    const resolved = await Promise.all(all)
    expect(calls).toBe(1)
    expect(resolved.filter((r) => !r.reused)).toHaveLength(1)

    const failing = async (): Promise<MediaInfo> => {
      calls++
      throw new Error('Graph 500')
    }
    await expect(t.cache.resolve(null, 'm5', failing, t.signal)).rejects.toThrow('Graph 500')
    await expect(t.cache.resolve(null, 'm5', failing, t.signal)).rejects.toThrow('Graph 500')
    expect(calls).toBe(3)
  })

  it('forgets an entry on request, but not one resolved since', async () => {
    const t = setup()
    const old = await t.cache.resolve(null, 'm6', t.lookup('m6'), t.signal)
    old.forget()
    const fresh = await t.cache.resolve(null, 'm6', t.lookup('m6'), t.signal)
    expect(fresh.reused).toBe(false)
    old.forget()
    expect((await t.cache.resolve(null, 'm6', t.lookup('m6'), t.signal)).reused).toBe(true)
    expect(t.lookups()).toBe(2)
  })

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const t = setup({ maxEntries: 3 })
    for (const id of ['a', 'b', 'c']) await t.cache.resolve(null, id, t.lookup(id), t.signal)
    await t.cache.resolve(null, 'a', t.lookup('a'), t.signal) // a is now the most recent
    await t.cache.resolve(null, 'd', t.lookup('d'), t.signal)
    expect(t.cache.size).toBe(3)
    expect((await t.cache.resolve(null, 'a', t.lookup('a'), t.signal)).reused).toBe(true)
    expect((await t.cache.resolve(null, 'b', t.lookup('b'), t.signal)).reused).toBe(false)
  })

  it('lets each caller stop waiting on its own signal, and looks up again for a caller whose shared lookup was aborted', async () => {
    const t = setup()
    const first = new AbortController()
    const second = new AbortController()
    let calls = 0
    const lookup = (signal: AbortSignal) => {
      calls++
      return new Promise<MediaInfo>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
        if (calls > 1) resolve({ id: 'm7', url: 'https://lookaside.fbsbx.com/x?mid=m7', mimeType: '', sha256: '', fileSize: null })
      })
    }
    const a = t.cache.resolve(null, 'm7', lookup, first.signal)
    const b = t.cache.resolve(null, 'm7', lookup, second.signal)
    first.abort(new Error('client left'))
    await expect(a).rejects.toThrow('client left')
    expect((await b).info.id).toBe('m7')
    expect(calls).toBe(2)

    const third = new AbortController()
    const never = t.cache.resolve(null, 'm8', () => new Promise<MediaInfo>(() => {}), new AbortController().signal)
    const waiting = t.cache.resolve(null, 'm8', () => new Promise<MediaInfo>(() => {}), third.signal)
    third.abort(new Error('deadline'))
    await expect(waiting).rejects.toThrow('deadline')
    void never
  })
})
