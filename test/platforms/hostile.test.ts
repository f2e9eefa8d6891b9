/** Hand-picked hostile bodies: wrong types, huge and deep structures, exotic objects. */
import { describe, expect, it } from 'vitest'
import { MAX_ITEMS_PER_PAYLOAD, MAX_PROBLEMS_PER_PAYLOAD } from '../../src/platforms/webhook/parse-context.js'
import { parseWebhook } from '../../src/platforms/webhook/parse-webhook.js'

const receivedAt = new Date('2026-10-01T12:00:00.000Z')
const parse = (payload: unknown) => parseWebhook(payload, { receivedAt })
const url = (i: number) => `https://scontent.xx.fbcdn.net/v/t1.15752-9/${i}_n.jpg?oe=6AB53000`

function events(n: number, attachmentsEach = 1) {
  return Array.from({ length: n }, (_, i) => ({
    sender: { id: '2' },
    recipient: { id: '1' },
    timestamp: 1790000000000,
    message: { mid: `m_${i}`, attachments: Array.from({ length: attachmentsEach }, (_, j) => ({ type: 'image', payload: { url: url(j) } })) },
  }))
}

describe('payloads that are not webhooks', () => {
  it.each([null, undefined, 42, 'page', true, [], [{ object: 'page' }]])('%j: unsupported, empty, noted', (payload) => {
    expect(parse(payload)).toEqual({ object: '', supported: false, media: [], unsends: [], problems: ['payload: is not a JSON object'] })
  })

  it('an object Meta sends that we do not handle is acknowledged as unsupported without notes', () => {
    expect(parse({ object: 'user', entry: [{ id: '1', changes: [{ field: 'feed', value: {} }] }] })).toEqual({ object: 'user', supported: false, media: [], unsends: [], problems: [] })
  })

  it('a non-string object is treated as absent', () => {
    expect(parse({ object: ['page'], entry: [] })).toMatchObject({ object: '', supported: false, problems: ['payload: `object` is not a string'] })
  })

  it.each([
    [{ object: 'page' }, 'payload: `entry` is missing'],
    [{ object: 'page', entry: { id: '1' } }, 'payload: `entry` is not an array; ignored'],
    [{ object: 'instagram', entry: ['x'] }, 'entry[0]: is not an object; skipped'],
    [{ object: 'whatsapp_business_account', entry: [{ id: '1', changes: 'all of them' }] }, 'entry[0]: `changes` is not an array; ignored'],
    [{ object: 'page', entry: [{ id: 17841400000000000, messaging: events(1) }] }, 'entry[0]: `id` is missing or not an id; skipped'],
  ])('%j is noted', (payload, problem) => {
    const parsed = parse(payload)
    expect(parsed.supported).toBe(true)
    expect(parsed.media).toEqual([])
    expect(parsed.problems).toEqual([problem])
  })
})

describe('ids', () => {
  it('accepts a number id only while it is exact', () => {
    expect(parse({ object: 'page', entry: [{ id: 1234567, messaging: events(1) }] }).media).toMatchObject([{ accountId: '1234567' }])
  })

  it('refuses ids with spaces, control characters, non-ASCII or megabytes', () => {
    for (const id of ['a b', 'a\nb', 'pàge', '', 'x'.repeat(1025)]) {
      expect(parse({ object: 'page', entry: [{ id, messaging: events(1) }] }).media, JSON.stringify(id).slice(0, 20)).toEqual([])
    }
  })

  it('never reads inherited properties: `constructor` is not a media type', () => {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: { metadata: { phone_number_id: '2' }, messages: [{ id: 'wamid.1', type: 'constructor' }, { id: 'wamid.2', type: '__proto__' }, { id: 'wamid.3', type: 'toString' }] } }] }],
    }
    expect(parse(payload)).toMatchObject({ media: [], problems: [] })
  })
})

describe('size and shape', () => {
  it('handles a full batch of 1000 events with several attachments each', () => {
    const parsed = parse({ object: 'page', entry: [{ id: '1', messaging: events(1000, 5) }] })
    expect(parsed.media).toHaveLength(5000)
    expect(parsed.problems).toEqual([])
  })

  it('stops at the work budget on a huge array, quickly, with one note', () => {
    const started = Date.now()
    const parsed = parse({ object: 'page', entry: new Array(1_000_000).fill({ id: '1', messaging: [] }) })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(parsed.media).toEqual([])
    expect(parsed.problems).toEqual([`entry[${MAX_ITEMS_PER_PAYLOAD}]: the payload has more than ${MAX_ITEMS_PER_PAYLOAD} items; this one and all after it were skipped`])
  })

  it('keeps at most a bounded number of notes and counts the rest', () => {
    const parsed = parse({ object: 'page', entry: new Array(500).fill('not an entry') })
    expect(parsed.problems).toHaveLength(MAX_PROBLEMS_PER_PAYLOAD + 1)
    expect(parsed.problems.at(-1)).toBe(`…and ${500 - MAX_PROBLEMS_PER_PAYLOAD} more problems`)
  })

  it('is not bothered by deep nesting anywhere', () => {
    let deep: unknown = { url: url(0) }
    for (let i = 0; i < 100_000; i++) deep = { payload: deep, 0: [deep] }
    const payload = { object: 'page', entry: [{ id: '1', messaging: [{ sender: { id: deep }, message: { mid: 'm_1', attachments: [{ type: 'image', payload: { url: url(0), extra: deep } }, deep] } }] }] }
    const parsed = parse(payload)
    expect(parsed.media).toMatchObject([{ sourceUrl: url(0), senderId: null }])
  })

  it('does not carry a megabyte caption or NUL bytes into a record', () => {
    const value = (image: Record<string, unknown>) => ({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { metadata: { phone_number_id: '2' }, messages: [{ id: 'wamid.1', type: 'image', image: { id: '3', ...image } }] } }] }] })
    expect(parse(value({ caption: 'x'.repeat(1_000_000) })).media[0]!.caption).toBeNull()
    expect(parse(value({ caption: 'a\u0000b' })).media[0]!.caption).toBe('ab')
  })
})

describe('exotic objects from library callers', () => {
  it('survives throwing getters and proxies, noting where', () => {
    const trap = new Proxy(
      {},
      {
        get() {
          throw new Error('secret-token-123')
        },
        has() {
          throw new Error('secret-token-123')
        },
        getOwnPropertyDescriptor() {
          throw new Error('secret-token-123')
        },
      },
    )
    const getter = Object.defineProperty({ type: 'image' }, 'payload', {
      enumerable: true,
      get() {
        throw new Error('secret-token-123')
      },
    })
    const payload = { object: 'page', entry: [trap, { id: '1', messaging: [{ message: { mid: 'm_1', attachments: [getter, { type: 'image', payload: { url: url(0) } }] } }] }] }
    const parsed = parse(payload)
    expect(parsed.media).toMatchObject([{ attachmentIndex: 0, sourceUrl: url(0) }])
    expect(parsed.problems).toEqual(['entry[0]: reading it failed; skipped', 'entry[1].messaging[0].message.attachments[0]: reading it failed; skipped'])
    expect(() => parse(trap)).not.toThrow()
    expect(JSON.stringify(parse(trap))).not.toContain('secret-token')
  })

  it('refuses a missing receivedAt: that is a caller bug, not input', () => {
    expect(() => parseWebhook({}, { receivedAt: new Date(Number.NaN) })).toThrow(/receivedAt/)
  })
})
