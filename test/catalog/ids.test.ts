import { describe, expect, it, vi } from 'vitest'
import { idTime, isMediaId, isWebhookId, newMediaId, newWebhookId, ulid } from '../../src/media/ids.js'

describe('ids', () => {
  it('are a prefix and 26 Crockford base32 characters', () => {
    const media = newMediaId()
    const hook = newWebhookId()
    expect(media).toMatch(/^med_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(hook).toMatch(/^whk_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(isMediaId(media)).toBe(true)
    expect(isWebhookId(hook)).toBe(true)
    expect(isMediaId(hook)).toBe(false)
    for (const bad of ['med_', `med_${'0'.repeat(25)}`, `med_${'0'.repeat(25)}I`, `med_${'0'.repeat(25)}u`, ` ${media}`, `${media}\n`]) expect(isMediaId(bad)).toBe(false)
  })

  it('encode the time: a later millisecond sorts later, and idTime reads it back', () => {
    const t = Date.parse('2030-06-01T12:00:00.123Z')
    const a = newMediaId(t)
    const b = newMediaId(t + 1)
    expect(idTime(a).getTime()).toBe(t)
    expect(idTime(b).getTime()).toBe(t + 1)
    expect(a < b).toBe(true)
    expect(ulid(0)).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
  })

  it('increase strictly within one millisecond and when the clock steps back', () => {
    const t = Date.parse('2031-01-01T00:00:00.000Z')
    const ids = Array.from({ length: 5000 }, (_, i) => newMediaId(i < 2500 ? t : t - 10_000))
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
  })

  /** The module afresh: ids are monotonic per process, so a later time in one test would hold every later test's. */
  async function freshIds() {
    vi.resetModules()
    return await import('../../src/media/ids.js')
  }

  it('encode the time as ten big-endian digits and leave the random part room to grow', async () => {
    expect((await freshIds()).ulid(0).slice(0, 10)).toBe('0000000000')
    expect((await freshIds()).ulid(2 ** 48 - 1).slice(0, 10)).toBe('7ZZZZZZZZZ')
    const { ulid } = await freshIds()
    const t = Date.parse('2032-03-04T05:06:07.089Z')
    expect(idTime(ulid(t)).getTime()).toBe(t)
    // A new millisecond draws fresh bits with the top one clear, so its first random digit is below 16.
    for (let i = 1; i <= 200; i++) expect('0123456789ABCDEF').toContain(ulid(t + i)[10])
  })

  it('count up by one within a millisecond, carrying across digits', () => {
    const t = Date.parse('2033-01-01T00:00:00.000Z')
    const value = (id: string) => [...id.slice(10)].reduce((n, c) => n * 32n + BigInt('0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c)), 0n)
    let previous = ulid(t)
    // 100 steps cross at least three carries out of the last digit.
    for (let i = 0; i < 100; i++) {
      const id = ulid(t)
      expect(id.slice(0, 10)).toBe(previous.slice(0, 10))
      expect(value(id) - value(previous)).toBe(1n)
      previous = id
    }
  })
})
