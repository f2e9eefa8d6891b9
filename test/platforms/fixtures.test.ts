/** Every fixture in test/fixtures/webhooks normalizes to exactly these records. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { NewMedia } from '../../src/media/record.js'
import { parseWebhook } from '../../src/platforms/webhook/parse-webhook.js'
import type { ParsedWebhook } from '../../src/platforms/webhook/types.js'

const RECEIVED_AT = new Date('2026-10-01T12:00:00.000Z')
const WA_EXPIRES = new Date('2026-10-08T12:00:00.000Z')
const PHONE_NUMBER_ID = '106540352242922'
const PAGE = '682498302938465'
const PSID = '7228156307217521'
const IG = '17841405822304914'
const IGSID = '1914016008725331'

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8'))
}

function parse(name: string): ParsedWebhook {
  return parseWebhook(fixture(name), { receivedAt: RECEIVED_AT })
}

const nulls = {
  senderId: null,
  senderUserId: null,
  sourceMediaId: null,
  sourceUrl: null,
  sourceExpiresAt: null,
  declaredMime: null,
  declaredSha256: null,
  declaredSize: null,
  filename: null,
  caption: null,
  voice: null,
  animated: null,
  igPostMediaId: null,
  title: null,
  sentAt: null,
  error: null,
} as const

function wa(fields: Partial<NewMedia> & Pick<NewMedia, 'messageId' | 'kind' | 'sourceType'>): NewMedia {
  return { ...nulls, platform: 'whatsapp', accountId: PHONE_NUMBER_ID, attachmentIndex: 0, direction: 'inbound', senderId: '16505551234', ...fields }
}

function messaging(platform: 'messenger' | 'instagram', fields: Partial<NewMedia> & Pick<NewMedia, 'messageId' | 'kind' | 'sourceType' | 'sourceUrl'>): NewMedia {
  const [accountId, senderId] = platform === 'messenger' ? [PAGE, PSID] : [IG, IGSID]
  return { ...nulls, platform, accountId, senderId, attachmentIndex: 0, direction: 'inbound', ...fields }
}

const ok = (object: string, media: NewMedia[], unsends: ParsedWebhook['unsends'] = []): ParsedWebhook => ({ object, supported: true, media, unsends, problems: [] })
const WABA = 'whatsapp_business_account'

describe('WhatsApp fixtures', () => {
  it('image: media id, webhook url, base64 sha256, caption, 7-day expiry', () => {
    expect(parse('whatsapp-image')).toEqual(
      ok(WABA, [
        wa({
          messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=',
          kind: 'image',
          sourceType: 'image',
          sourceMediaId: '1003383421387256',
          sourceUrl: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256&ext=1739321024&hash=ATtLN0q4nF9wKpC2YBu9S7hT2x1k5mGvQeRzJ8dAcWfXoQ',
          sourceExpiresAt: WA_EXPIRES,
          declaredMime: 'image/jpeg',
          declaredSha256: 'FdNBYhc2oM+9JWpYEkA/NmIZePOq9sVC3a5fWdqiMvo=',
          caption: 'Black jacket',
          sentAt: new Date('2025-02-12T00:43:44.000Z'),
        }),
      ]),
    )
  })

  it('video: hex sha256 kept as sent, no url', () => {
    expect(parse('whatsapp-video')).toEqual(
      ok(WABA, [
        wa({
          messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=',
          kind: 'video',
          sourceType: 'video',
          sourceMediaId: '1166846181421424',
          sourceExpiresAt: WA_EXPIRES,
          declaredMime: 'video/mp4',
          declaredSha256: '81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3',
          caption: 'Unboxing',
          sentAt: new Date('2025-02-12T00:44:41.000Z'),
        }),
      ]),
    )
  })

  it('audio: a voice note', () => {
    expect(parse('whatsapp-audio-voice')).toEqual(
      ok(WABA, [
        wa({
          messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUJGOTk2QTYxQjhCMDM4QjNGMAA=',
          kind: 'audio',
          sourceType: 'audio',
          sourceMediaId: '1003383421387257',
          sourceUrl: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387257&ext=1739321130&hash=ATvY0l8rKcB6sZ4pD1mE9uQ3wN7jF2hGxT5aR0iLoUkMbQ',
          sourceExpiresAt: WA_EXPIRES,
          declaredMime: 'audio/ogg; codecs=opus',
          declaredSha256: '0ipFn7TskxUdaJ0zWrZ1fcBu1C3bXl3hYmbCIPYy1F4=',
          voice: true,
          sentAt: new Date('2025-02-12T00:45:30.000Z'),
        }),
      ]),
    )
  })

  it('document: filename and caption', () => {
    expect(parse('whatsapp-document')).toEqual(
      ok(WABA, [
        wa({
          messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTNDQTk3RkI4NkRDNTc1MTIzRQA=',
          kind: 'document',
          sourceType: 'document',
          sourceMediaId: '1376223850470843',
          sourceUrl: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1376223850470843&ext=1739321202&hash=ATuMRfjzH7c4pXwZb0yQ2kE8sV6nT1aLdG3iUoJ5hBqCvA',
          sourceExpiresAt: WA_EXPIRES,
          declaredMime: 'application/pdf',
          declaredSha256: 'V5OPpLD/gEG6Xjg0rA+1FNEhLuNFLSgmpYvnuxGbFbk=',
          filename: 'lucky-shrub-invoice.pdf',
          caption: 'Lucky Shrub Invoice',
          sentAt: new Date('2025-02-12T00:46:42.000Z'),
        }),
      ]),
    )
  })

  it('sticker: animated', () => {
    expect(parse('whatsapp-sticker')).toEqual(
      ok(WABA, [
        wa({
          messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQjlGNTc3MEE2QzFBMjE1NDdEOAA=',
          kind: 'sticker',
          sourceType: 'sticker',
          sourceMediaId: '1034512987654321',
          sourceExpiresAt: WA_EXPIRES,
          declaredMime: 'image/webp',
          declaredSha256: 'Twg5CZJCqLk4Nc6Py67ghrhEcmMyqa3ZNEaSN3nzJ0A=',
          animated: true,
          sentAt: new Date('2025-02-12T00:47:40.000Z'),
        }),
      ]),
    )
  })

  it('131052 on a message: a failed record, kind from the type when it says one', () => {
    expect(parse('whatsapp-error-131052')).toEqual(
      ok(WABA, [
        wa({
          messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzRUIwQTg0NjBGNzk4QzE5NjM4OQA=',
          kind: 'unknown',
          sourceType: 'unsupported',
          sentAt: new Date('2025-02-12T00:49:00.000Z'),
          error: { code: 'meta_error', message: '131052: Media download error', vendorCode: 131052 },
        }),
        wa({
          messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzRUIwQzE5RDVBMjc3RTg0QjAyNQA=',
          kind: 'image',
          sourceType: 'image',
          sourceMediaId: '1288911062534112',
          sourceExpiresAt: WA_EXPIRES,
          declaredMime: 'image/jpeg',
          declaredSha256: 'bXvbDFGgITu1c7F1dK2nvBuKp1WiKpRN6xDQjTUjUNo=',
          sentAt: new Date('2025-02-12T00:49:05.000Z'),
          error: { code: 'meta_error', message: '131052: Media download error', vendorCode: 131052 },
        }),
      ]),
    )
  })

  it('change-level errors: a failed record under a synthetic, stable message id', () => {
    const parsed = parse('whatsapp-errors-system')
    expect(parsed).toEqual(
      ok(WABA, [
        wa({
          messageId: expect.stringMatching(/^werr\.[0-9a-f]{40}$/) as unknown as string,
          senderId: null,
          kind: 'unknown',
          sourceType: 'errors',
          error: { code: 'meta_error', message: '130429: Rate limit hit', vendorCode: 130429 },
        }),
      ]),
    )
    expect(parse('whatsapp-errors-system').media[0]!.messageId).toBe(parsed.media[0]!.messageId)
  })

  it('statuses: nothing', () => {
    expect(parse('whatsapp-statuses')).toEqual(ok(WABA, []))
  })
})

const T = new Date('2026-09-21T14:13:20.308Z')

describe('Messenger fixtures', () => {
  const url = (name: string) => ((fixture(name) as { entry: { messaging: { message: { attachments: { payload: { url: string } }[] } }[] }[] }).entry[0]!.messaging[0]!.message.attachments[0]!.payload.url)

  it.each([
    ['messenger-image', 'image', 'image', 'm_AG5Hz2Uq7vGJ8nC1dO3tWfZpQx9yBk4sLr6eMiTaNcVhR0jKbP1oYuXw2lSgDqEn', '2026-09-24T14:13:20.000Z'],
    ['messenger-file', 'file', 'document', 'm_tN8wFq2Xk5vL0cJ7aZ3hR9sG1dP6mB4yE2uTiQoWn8KxVjC5lHgYr0fSb3eMpAzD', '2026-09-25T02:13:20.000Z'],
    ['messenger-audio', 'audio', 'audio', 'm_qW3eR5tY7uI9oP1aS3dF5gH7jK9lZ1xC3vB5nM7qW9eR1tY3uI5oP7aS9dF1gH3j', '2026-09-25T14:13:20.000Z'],
    ['messenger-video', 'video', 'video', 'm_zX1cV3bN5mQ7wE9rT1yU3iO5pA7sD9fG1hJ3kL5zX7cV9bN1mQ3wE5rT7yU9iO1p', '2026-09-26T02:13:20.000Z'],
  ] as const)('%s: a %s attachment is a %s, expiring at its oe', (name, sourceType, kind, mid, expires) => {
    expect(parse(name)).toEqual(
      ok('page', [messaging('messenger', { messageId: mid, kind, sourceType, sourceUrl: url(name), sourceExpiresAt: new Date(expires), sentAt: T })]),
    )
  })

  it('sticker twins: one record, the `sticker` one', () => {
    expect(parse('messenger-sticker-twins')).toEqual(
      ok('page', [
        messaging('messenger', {
          messageId: 'm_St1ck3rTw1nsL3gacyAndNewF0rmOfTheSameL1keSt1ck3rInOneMessage0001',
          kind: 'sticker',
          sourceType: 'sticker',
          sourceUrl:
            'https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_5411344281094848512_n.png?_nc_cat=1&ccb=1-7&_nc_sid=fc17b8&_nc_ohc=aB9cD8eF7gHQ7kNvgE6fG5h&_nc_ad=z-m&_nc_cid=0&_nc_ht=scontent.xx&oh=03_Q7cD1QGa1sD2fG3hJ4kL5zX6cV7bN8mQ9wE0rT1yU2iO3p&oe=6AB7D300',
          sourceExpiresAt: new Date('2026-09-26T14:13:20.000Z'),
          sentAt: T,
        }),
      ]),
    )
  })

  it('fallback and location attachments: nothing', () => {
    expect(parse('messenger-fallback')).toEqual(ok('page', []))
  })

  it("echoes: the page's own image, outbound, still under the page; a template echo in standby: nothing", () => {
    expect(parse('messenger-echo')).toEqual(
      ok('page', [
        messaging('messenger', {
          messageId: 'm_Ech0OfAnImag3Th3PageS3ntFromItsOwnApp1icat10nV1aTheSendAPI0001',
          senderId: PAGE,
          direction: 'outbound',
          kind: 'image',
          sourceType: 'image',
          sourceUrl:
            'https://scontent.xx.fbcdn.net/v/t1.15752-9/462203951_874526411490273_3326571830468917725_n.jpg?_nc_cat=105&ccb=1-7&_nc_sid=fc17b8&_nc_ohc=Wq2eR3tY4uIQ7kNvgD5sF6g&_nc_ad=z-m&_nc_cid=0&_nc_ht=scontent.xx&oh=03_Q7cD1QH7jK8lZ9xC0vB1nM2qW3eR4tY5uI6oP7aS8dF9gH&oe=6AB53000',
          sourceExpiresAt: new Date('2026-09-24T14:13:20.000Z'),
          sentAt: new Date('2026-09-21T14:13:20.673Z'),
        }),
      ]),
    )
  })

  it('message_deletes: an unsend, no media', () => {
    expect(parse('messenger-message-deletes')).toEqual(
      ok('page', [], [{ platform: 'messenger', accountId: PAGE, messageId: 'm_AG5Hz2Uq7vGJ8nC1dO3tWfZpQx9yBk4sLr6eMiTaNcVhR0jKbP1oYuXw2lSgDqEn' }]),
    )
  })
})

describe('Instagram fixtures', () => {
  const lookaside = (assetId: string) =>
    `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${assetId}&signature=AbxR2cM7uQ9sK1fL3gH5jD7aS9pO1iU3yT5rE7wQ9zX1cV3bN5mM7kJ9hG1fD3sA5pO7iU9yT1rE3wQ5zX7cV9bN`
  const IG_T = new Date('2026-09-21T14:13:20.349Z')
  const mid = (tail: string) => `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjAxNzI0MDg2MjY3NTQ0OTozMjA1NzUz${tail}`

  it.each([
    ['instagram-image', 'image', 'image', mid('Mzk2NDg1NTQ2NzQ1NzA2MzY1NzUxNzg0NjQwMAZDZD'), lookaside('18067301785612345')],
    ['instagram-story-mention', 'story_mention', 'story', mid('NTIxNDk3MzY2NDk4NTQ2NTg4MDk4MzIzMjcwNAZDZD'), lookaside('18098772104512345')],
    ['instagram-reel', 'ig_reel', 'video', mid('Njg4NzY1NDMyMTA5ODc2NTQzMjEwOTg3NjU0MwZDZD'), lookaside('18042587453012345')],
  ] as const)('%s: %s is a %s; lookaside URLs carry no expiry', (name, sourceType, kind, messageId, sourceUrl) => {
    expect(parse(name)).toEqual(ok('instagram', [messaging('instagram', { messageId, kind, sourceType, sourceUrl, sentAt: IG_T })]))
  })

  it('share: a cdninstagram URL with its oe expiry', () => {
    expect(parse('instagram-share')).toEqual(
      ok('instagram', [
        messaging('instagram', {
          messageId: mid('OTk5OTg4ODc3NzY2NjU1NTQ0NDMzMzIyMjExMQZDZD'),
          kind: 'share',
          sourceType: 'share',
          sourceUrl:
            'https://scontent-iad3-1.cdninstagram.com/v/t51.29350-15/461253810_1068822394851377_6218479123340581992_n.jpg?stp=dst-jpg_e35&_nc_ht=scontent-iad3-1.cdninstagram.com&_nc_cat=104&_nc_ohc=cF1mN8bV3xQQ7kNvgE2dS4a&edm=AKmAybEEAAAA&ccb=7-5&oh=00_AYC7aB9cD1eF3gH5iJ7kL9mN1oP3qR5sT7uV9wX1yZ3a&oe=6AB53000&_nc_sid=bfaa47',
          sourceExpiresAt: new Date('2026-09-24T14:13:20.000Z'),
          sentAt: IG_T,
        }),
      ]),
    )
  })

  it('is_deleted: an unsend, no media', () => {
    expect(parse('instagram-deleted')).toEqual(ok('instagram', [], [{ platform: 'instagram', accountId: IG, messageId: mid('Mzk2NDg1NTQ2NzQ1NzA2MzY1NzUxNzg0NjQwMAZDZD') }]))
  })
})
