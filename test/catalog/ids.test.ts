import { describe, expect, it } from 'vitest'
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
})
