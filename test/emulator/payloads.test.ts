import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  batch,
  bsuidFor,
  instagramMessage,
  messengerMessage,
  messengerMessages,
  metaJson,
  sign,
  stickerTwins,
  unsendMessage,
  verifySignature,
  whatsappError,
  whatsappMessage,
  whatsappMessages,
  whatsappStatus,
} from '../../src/emulator/index.js'

const media = { id: '1037543291543636', mime_type: 'image/jpeg', sha256: 'V5OPpLD/gEG6Xjg0bb+y3fXm8BI0hQ7qYCQOZ7Nqsw0=' }

describe('WhatsApp payloads (shapes of Meta webhook reference examples)', () => {
  it('builds an image message with the documented envelope and field order', () => {
    const p = whatsappMessage({ media: { type: 'image', caption: 'Hello', ...media }, timestamp: 1744344496 })
    expect(p.object).toBe('whatsapp_business_account')
    const entry = p.entry[0]!
    expect(entry.id).toBe('102290129340398')
    expect(entry.changes[0]!.field).toBe('messages')
    const value = entry.changes[0]!.value
    expect(value.messaging_product).toBe('whatsapp')
    expect(value.metadata).toEqual({ display_phone_number: '15550783881', phone_number_id: '106540352242922' })
    expect(value.contacts).toEqual([{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234', user_id: bsuidFor('16505551234') }])
    expect(value.contacts![0]!.user_id).toMatch(/^US\.\d{20}$/)
    const msg = value.messages![0]!
    expect(msg).toMatchObject({ from: '16505551234', timestamp: '1744344496', type: 'image' })
    expect(msg.id).toMatch(/^wamid\./)
    expect(Object.keys(msg.image as object)).toEqual(['caption', 'mime_type', 'sha256', 'id'])
    expect(msg.image).toEqual({ caption: 'Hello', ...media })
  })

  it('builds audio (voice), document (filename), sticker (animated) and the newer url field', () => {
    const voice = whatsappMessage({ media: { type: 'audio', ...media, mime_type: 'audio/ogg; codecs=opus', voice: true } }).entry[0]!.changes[0]!.value.messages![0]!
    expect(voice.audio).toEqual({ mime_type: 'audio/ogg; codecs=opus', sha256: media.sha256, id: media.id, voice: true })
    const doc = whatsappMessage({ media: { type: 'document', ...media, mime_type: 'application/pdf', filename: 'invoice.pdf', caption: 'c' } }).entry[0]!.changes[0]!.value.messages![0]!
    expect(Object.keys(doc.document as object)).toEqual(['caption', 'filename', 'mime_type', 'sha256', 'id'])
    const sticker = whatsappMessage({ media: { type: 'sticker', ...media, mime_type: 'image/webp', animated: true } }).entry[0]!.changes[0]!.value.messages![0]!
    expect(sticker.sticker).toEqual({ mime_type: 'image/webp', sha256: media.sha256, id: media.id, animated: true })
    const withUrl = whatsappMessage({ media: { type: 'video', ...media, url: 'https://lookaside.fbsbx.com/x' } }).entry[0]!.changes[0]!.value.messages![0]!
    expect((withUrl.video as { url: string }).url).toBe('https://lookaside.fbsbx.com/x')
  })

  it('puts several messages in one change, contacts de-duplicated', () => {
    const p = whatsappMessages({
      messages: [
        { from: '1', media: { type: 'image', ...media } },
        { from: '1', text: 'hi' },
        { from: '2', profileName: 'Ana', media: { type: 'video', ...media } },
      ],
    })
    const value = p.entry[0]!.changes[0]!.value
    expect(value.messages!.map((m) => m.type)).toEqual(['image', 'text', 'video'])
    expect(value.contacts!.map((c) => c.wa_id)).toEqual(['1', '2'])
  })

  it('builds messages[].errors[] (131052, type unsupported) and value.errors[]', () => {
    const inMessage = whatsappError({ code: 131052, from: '16505551234', details: 'Media file size too big. Max file size we currently support: 100MB.' })
    const m = inMessage.entry[0]!.changes[0]!.value.messages![0]!
    expect(m.type).toBe('unsupported')
    expect(m.errors).toEqual([
      expect.objectContaining({ code: 131052, title: 'Media download error', error_data: { details: 'Media file size too big. Max file size we currently support: 100MB.' } }),
    ])
    expect(m).not.toHaveProperty('image')
    const system = whatsappError({ code: 130429 }).entry[0]!.changes[0]!.value
    expect(system.messages).toBeUndefined()
    expect(system.errors![0]).toMatchObject({ code: 130429, title: 'Rate limit hit', message: 'Rate limit hit' })
    expect(system.errors![0]!.href).toContain('error-codes')
  })

  it('builds a statuses webhook without media', () => {
    const value = whatsappStatus({ wamid: 'wamid.X', status: 'delivered', recipientId: '16505551234', timestamp: 1750263773 }).entry[0]!.changes[0]!.value
    expect(value.messages).toBeUndefined()
    expect(value.statuses![0]).toMatchObject({ id: 'wamid.X', status: 'delivered', timestamp: '1750263773', recipient_id: '16505551234' })
    const failed = whatsappStatus({ status: 'failed', errors: [{ code: 131026 }] }).entry[0]!.changes[0]!.value.statuses![0]!
    expect((failed.errors as { code: number }[])[0]!.code).toBe(131026)
  })

  it('batch merges the same phone number into one change and keeps other WABAs as entries', () => {
    const a = whatsappMessage({ from: '1', media: { type: 'image', ...media } })
    const b = whatsappMessage({ from: '2', media: { type: 'image', ...media } })
    const c = whatsappMessage({ wabaId: '999', phoneNumberId: '888', media: { type: 'image', ...media } })
    const merged = batch(a, b, c)
    expect(merged.entry.map((e) => e.id)).toEqual(['102290129340398', '999'])
    expect(merged.entry[0]!.changes[0]!.value.messages).toHaveLength(2)
    expect(merged.entry[0]!.changes[0]!.value.contacts).toHaveLength(2)
    expect(a.entry[0]!.changes[0]!.value.messages).toHaveLength(1) // inputs untouched
    expect(() => batch(a, messengerMessage({ text: 'x' }) as never)).toThrow(/cannot mix/)
  })
})

describe('Messenger and Instagram payloads', () => {
  it('builds a Messenger attachment message', () => {
    const p = messengerMessage({ pageId: 'P', psid: 'U', mid: 'm_1', timestamp: 1458692752478, attachments: [{ type: 'image', url: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/a_n.jpg' }] })
    expect(p.object).toBe('page')
    expect(p.entry[0]).toMatchObject({ id: 'P' })
    expect(typeof p.entry[0]!.time).toBe('number')
    expect(p.entry[0]!.messaging[0]).toEqual({
      sender: { id: 'U' },
      recipient: { id: 'P' },
      timestamp: 1458692752478,
      message: { mid: 'm_1', attachments: [{ type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/a_n.jpg' } }] },
    })
  })

  it('sends sticker twins (legacy image with sticker_id + new sticker) and the message-level sticker_id', () => {
    const message = messengerMessage({ attachments: stickerTwins('https://x/s.png') }).entry[0]!.messaging[0]!.message!
    expect(message.attachments).toEqual([
      { type: 'image', payload: { url: 'https://x/s.png', sticker_id: 369239263222822 } },
      { type: 'sticker', payload: { url: 'https://x/s.png', sticker_id: 369239263222822 } },
    ])
    expect(message.sticker_id).toBe(369239263222822)
  })

  it('builds attachments without a URL: fallback, location, template', () => {
    const message = messengerMessage({
      attachments: [{ type: 'fallback' }, { type: 'fallback', title: 'Attachment Unavailable' }, { type: 'location' }, { type: 'template' }],
    }).entry[0]!.messaging[0]!.message!
    const [bare, titled, location, template] = message.attachments as Record<string, any>[]
    expect(bare).toEqual({ type: 'fallback' })
    expect(titled).toEqual({ type: 'fallback', payload: { title: 'Attachment Unavailable' } })
    expect(location!.payload.coordinates).toEqual({ lat: expect.any(Number), long: expect.any(Number) })
    expect(template!.payload.template_type).toBe('generic')
    for (const a of message.attachments as Record<string, any>[]) expect(a.payload?.url).toBeUndefined()
  })

  it('builds echoes with sender and recipient swapped', () => {
    const event = messengerMessage({ pageId: 'P', psid: 'U', isEcho: true, appId: '42', attachments: [{ type: 'file', url: 'https://x/f.pdf' }] }).entry[0]!.messaging[0]!
    expect(event.sender.id).toBe('P')
    expect(event.recipient.id).toBe('U')
    expect(event.message).toMatchObject({ is_echo: true, app_id: 42 })
  })

  it('batches several entries and several events per entry', () => {
    const merged = batch(
      messengerMessages({ pageId: 'P1', messages: [{ text: 'a' }, { attachments: [{ type: 'video', url: 'https://x/v.mp4' }] }] }),
      messengerMessage({ pageId: 'P1', text: 'b' }),
      messengerMessage({ pageId: 'P2', text: 'c' }),
    )
    expect(merged.entry.map((e) => [e.id, e.messaging.length])).toEqual([
      ['P1', 3],
      ['P2', 1],
    ])
  })

  it('builds Instagram messages of every documented type, and unsends', () => {
    const types = ['image', 'video', 'audio', 'file', 'share', 'story_mention', 'ig_reel', 'reel']
    const p = instagramMessage({ igId: 'IG', igsid: 'S', attachments: types.map((type) => ({ type, url: `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${type}` })) })
    expect(p.object).toBe('instagram')
    const message = p.entry[0]!.messaging[0]!.message!
    expect((message.attachments as { type: string }[]).map((a) => a.type)).toEqual(types)
    expect(message.mid).toMatch(/^aWdf/)
    const unsend = unsendMessage('instagram', { mid: 'aWdfX', accountId: 'IG', userId: 'S' })
    expect(unsend.entry[0]!.messaging[0]!.message).toEqual({ mid: 'aWdfX', is_deleted: true })
    expect(unsendMessage('messenger', { mid: 'm_1' }).object).toBe('page')
  })
})

describe('signatures and encoding', () => {
  it('sign() is HMAC-SHA256 of the raw bytes, hex, prefixed sha256=', () => {
    const body = Buffer.from('{"object":"page"}')
    const expected = `sha256=${createHmac('sha256', 'secret').update(body).digest('hex')}`
    expect(sign(body, 'secret')).toBe(expected)
    expect(verifySignature(body, 'secret', expected)).toBe(true)
    expect(verifySignature(Buffer.from('{"object":"page"} '), 'secret', expected)).toBe(false)
    expect(verifySignature(body, 'other', expected)).toBe(false)
    expect(verifySignature(body, 'secret', undefined)).toBe(false)
  })

  it('metaJson escapes slashes and non-ASCII like Meta, and parses back to the same value', () => {
    const payload = { url: 'https://a/b', text: 'héllo 😀' }
    const text = metaJson(payload)
    expect(text).toBe('{"url":"https:\\/\\/a\\/b","text":"h\\u00e9llo \\ud83d\\ude00"}')
    expect(JSON.parse(text)).toEqual(payload)
    expect(text).not.toBe(JSON.stringify(payload))
  })
})

describe('2026 shapes', () => {
  it('a user with a username and no shared phone number: no from, no wa_id, a user_id, a username and a parent BSUID', () => {
    const p = whatsappMessage({ from: null, userId: 'US.13491208655302741918', username: '@pablo', parentUserId: 'US.ENT.11815799212886844830', media: { type: 'image', ...media } })
    const value = p.entry[0]!.changes[0]!.value
    expect(value.contacts).toEqual([{ profile: { name: 'Sheena Nelson', username: '@pablo' }, user_id: 'US.13491208655302741918', parent_user_id: 'US.ENT.11815799212886844830' }])
    expect(value.messages![0]).not.toHaveProperty('from')
  })

  it('messaging attachments of 2026: ig_post with its media id and title, appointment_booking without a URL', () => {
    const p = instagramMessage({ attachments: [{ type: 'ig_post', url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1', title: 'Autumn', ig_post_media_id: '18045678901234567' }] })
    expect(p.entry[0]!.messaging[0]!.message!.attachments).toEqual([{ type: 'ig_post', payload: { url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1', title: 'Autumn', ig_post_media_id: '18045678901234567' } }])
    const m = messengerMessage({ attachments: [{ type: 'appointment_booking' }] })
    const [booking] = m.entry[0]!.messaging[0]!.message!.attachments as { type: string; payload: Record<string, unknown> }[]
    expect(booking!.type).toBe('appointment_booking')
    expect(booking!.payload).not.toHaveProperty('url')
    expect(booking!.payload).toHaveProperty('appointment_id')
  })
})
