/** Messenger/Instagram rules: sticker twins, attachment positions, kinds, expiry, unsends. */
import { describe, expect, it } from 'vitest'
import { parseWebhook } from '../../src/platforms/webhook/parse-webhook.js'

const receivedAt = new Date('2026-10-01T12:00:00.000Z')
const cdn = (name: string, oe = '6AB53000') => `https://scontent.xx.fbcdn.net/v/t1.15752-9/${name}_n.jpg?_nc_cat=1&oh=03_abc&oe=${oe}`
const LIKE = 369239263222822

type Attachment = { type: string; payload?: Record<string, unknown> | null }

function page(attachments: Attachment[], extra: { message?: Record<string, unknown>; object?: 'page' | 'instagram'; key?: string } = {}) {
  const message = { mid: 'm_rules', attachments, ...extra.message }
  return {
    object: extra.object ?? 'page',
    entry: [{ id: '1234567890123456', time: 1790000000000, [extra.key ?? 'messaging']: [{ sender: { id: '2345678901234567' }, recipient: { id: '1234567890123456' }, timestamp: 1790000000000, message }] }],
  }
}

const media = (payload: unknown) => parseWebhook(payload, { receivedAt }).media
const brief = (payload: unknown) => media(payload).map((m) => ({ i: m.attachmentIndex, kind: m.kind, type: m.sourceType, url: m.sourceUrl }))

describe('sticker twins', () => {
  const legacy = { type: 'image', payload: { url: cdn('sticker'), sticker_id: LIKE } }
  const sticker = { type: 'sticker', payload: { url: cdn('sticker'), sticker_id: LIKE } }

  it('are one record, the `sticker` one, in either order', () => {
    expect(brief(page([legacy, sticker]))).toEqual([{ i: 0, kind: 'sticker', type: 'sticker', url: cdn('sticker') }])
    expect(brief(page([sticker, legacy]))).toEqual([{ i: 0, kind: 'sticker', type: 'sticker', url: cdn('sticker') }])
  })

  it('give the same record key before, during and after the transition', () => {
    const key = (p: unknown) => media(p).map((m) => `${m.messageId}#${m.attachmentIndex}:${m.kind}`)
    expect(key(page([legacy]))).toEqual(key(page([legacy, sticker])))
    expect(key(page([sticker]))).toEqual(key(page([legacy, sticker])))
  })

  it('match on sticker_id whether sent as number or string', () => {
    expect(brief(page([{ type: 'image', payload: { url: cdn('s'), sticker_id: String(LIKE) } }, sticker]))).toHaveLength(1)
  })

  it('a legacy sticker alone is a sticker, typed as Meta sent it', () => {
    expect(brief(page([legacy]))).toEqual([{ i: 0, kind: 'sticker', type: 'image', url: cdn('sticker') }])
  })

  it('two different stickers, or a photo next to a sticker, are not twins', () => {
    const other = { type: 'sticker', payload: { url: cdn('other'), sticker_id: 1 } }
    expect(brief(page([legacy, other]))).toHaveLength(2)
    const photo = { type: 'image', payload: { url: cdn('photo') } }
    expect(brief(page([photo, legacy, sticker]))).toEqual([
      { i: 0, kind: 'image', type: 'image', url: cdn('photo') },
      { i: 1, kind: 'sticker', type: 'sticker', url: cdn('sticker') },
    ])
  })
})

describe('attachments', () => {
  it('are positioned among all attachments, media or not', () => {
    const parsed = brief(page([{ type: 'fallback', payload: { title: 'Attachment Unavailable' } }, { type: 'image', payload: { url: cdn('a') } }, { type: 'location', payload: { coordinates: {} } }, { type: 'video', payload: { url: cdn('b') } }]))
    expect(parsed.map((p) => p.i)).toEqual([1, 3])
  })

  it.each([
    ['reel', 'video'],
    ['ig_reel', 'video'],
    ['post', 'share'],
    ['ig_post', 'share'],
    ['story', 'story'],
    ['a_type_meta_adds_later', 'unknown'],
  ])('%s with a URL is a %s', (type, kind) => {
    expect(brief(page([{ type, payload: { url: cdn('x') } }]))).toMatchObject([{ kind, type }])
  })

  it.each(['fallback', 'template', 'appointment_booking', 'location'])('%s is never media, even with a URL', (type) => {
    expect(media(page([{ type, payload: { url: cdn('x') } }]))).toEqual([])
  })

  it('refuses URLs that are not http(s), with a note, and keeps the other attachments', () => {
    const parsed = parseWebhook(
      page([{ type: 'image', payload: { url: 'javascript:alert(1)' } }, { type: 'image', payload: { url: 'file:///etc/passwd' } }, { type: 'image', payload: { url: 'https://user:pw@scontent.xx.fbcdn.net/x.jpg' } }, { type: 'image', payload: { url: cdn('ok') } }]),
      { receivedAt },
    )
    expect(parsed.media.map((m) => [m.attachmentIndex, m.sourceUrl])).toEqual([[3, cdn('ok')]])
    expect(parsed.problems).toHaveLength(3)
  })

  it('reads the expiry from oe only when it is plausible hex', () => {
    expect(media(page([{ type: 'image', payload: { url: cdn('a', '6AB53000') } }]))[0]!.sourceExpiresAt).toEqual(new Date('2026-09-24T14:13:20.000Z'))
    for (const oe of ['zz', '', '0', 'FFFFFFFFFFFF', '6AB53000.5']) {
      expect(media(page([{ type: 'image', payload: { url: cdn('a', oe) } }]))[0]!.sourceExpiresAt, oe).toBeNull()
    }
  })

  it('reads standby events too', () => {
    expect(brief(page([{ type: 'image', payload: { url: cdn('a') } }], { key: 'standby' }))).toHaveLength(1)
  })

  it('skips the attachments of a message without a mid, with a note', () => {
    const parsed = parseWebhook(page([{ type: 'image', payload: { url: cdn('a') } }], { message: { mid: 12.5 } }), { receivedAt })
    expect(parsed.media).toEqual([])
    expect(parsed.problems).toEqual(['entry[0].messaging[0].message: `mid` is missing or not an id; its attachments were skipped'])
  })
})

describe('direction and unsends', () => {
  it('echoes are outbound', () => {
    expect(media(page([{ type: 'image', payload: { url: cdn('a') } }], { message: { is_echo: true } }))).toMatchObject([{ direction: 'outbound' }])
    expect(media(page([{ type: 'image', payload: { url: cdn('a') } }], { message: { is_echo: 'yes' } }))).toMatchObject([{ direction: 'inbound' }])
  })

  it('an unsent message is an unsend on its platform, and its attachments are not media', () => {
    for (const object of ['page', 'instagram'] as const) {
      const parsed = parseWebhook(page([{ type: 'image', payload: { url: cdn('a') } }], { object, message: { is_deleted: true } }), { receivedAt })
      expect(parsed.media).toEqual([])
      expect(parsed.unsends).toEqual([{ platform: object === 'page' ? 'messenger' : 'instagram', accountId: '1234567890123456', messageId: 'm_rules' }])
    }
  })

  it('events without a message (deliveries, reads, reactions) produce nothing and no note', () => {
    const payload = {
      object: 'page',
      entry: [{ id: '1', time: 1, messaging: [{ sender: { id: '2' }, recipient: { id: '1' }, delivery: { mids: ['m_1'], watermark: 1 } }, { sender: { id: '2' }, recipient: { id: '1' }, read: { watermark: 1 } }] }],
    }
    expect(parseWebhook(payload, { receivedAt })).toEqual({ object: 'page', supported: true, media: [], unsends: [], problems: [] })
  })
})
