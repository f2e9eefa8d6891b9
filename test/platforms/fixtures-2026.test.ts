/** The 2026 webhook shapes (docs/meta-platform.md): BSUIDs, usernames, and every attachment type Meta sends now. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseWebhook } from '../../src/platforms/webhook/parse-webhook.js'
import type { ParsedWebhook } from '../../src/platforms/webhook/types.js'

const RECEIVED_AT = new Date('2026-10-01T12:00:00.000Z')
const OE = new Date(0x6ab6a500 * 1000)

function parse(name: string): ParsedWebhook {
  return parseWebhook(JSON.parse(readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8')), { receivedAt: RECEIVED_AT })
}

describe('WhatsApp BSUIDs (since April 2026)', () => {
  it('a phone number and a BSUID: sender_id stays the phone number, sender_user_id is the contact user_id', () => {
    const parsed = parse('whatsapp-image-bsuid')
    expect(parsed.problems).toEqual([])
    expect(parsed.media).toHaveLength(1)
    expect(parsed.media[0]).toMatchObject({ senderId: '16505551234', senderUserId: 'US.13491208655302741918', kind: 'image', sourceMediaId: '1003383421387301' })
  })

  it('a username without a phone number: sender_id falls back to the BSUID, never null; the parent BSUID is not the sender', () => {
    const parsed = parse('whatsapp-image-username')
    expect(parsed.problems).toEqual([])
    expect(parsed.media).toHaveLength(1)
    expect(parsed.media[0]).toMatchObject({ senderId: 'US.13491208655302741918', senderUserId: 'US.13491208655302741918', kind: 'document', filename: 'invoice.pdf' })
  })

  it('a message-level user id wins over the contact, and a malformed user_id is noted and ignored', () => {
    const body = JSON.parse(readFileSync(new URL('../fixtures/webhooks/whatsapp-image-bsuid.json', import.meta.url), 'utf8'))
    const value = body.entry[0].changes[0].value
    value.messages[0].from_user_id = 'BR.77700011122233344455'
    expect(parseWebhook(body, { receivedAt: RECEIVED_AT }).media[0]?.senderUserId).toBe('BR.77700011122233344455')
    delete value.messages[0].from_user_id
    value.contacts[0].user_id = 'not a bsuid'
    const parsed = parseWebhook(body, { receivedAt: RECEIVED_AT })
    expect(parsed.media[0]).toMatchObject({ senderId: '16505551234', senderUserId: null })
    expect(parsed.problems.join('\n')).toMatch(/user_id.*not a business-scoped user id/)
  })

  it('two contacts and no phone number on the message: no guess', () => {
    const body = JSON.parse(readFileSync(new URL('../fixtures/webhooks/whatsapp-image-username.json', import.meta.url), 'utf8'))
    const value = body.entry[0].changes[0].value
    value.contacts.push({ profile: { name: 'Other' }, user_id: 'US.99999999999999999999' })
    expect(parseWebhook(body, { receivedAt: RECEIVED_AT }).media[0]).toMatchObject({ senderId: null, senderUserId: null })
  })
})

describe('Messenger attachment types of 2026', () => {
  it('sticker (the only sticker type since 30 Aug 2026): one record, kind sticker', () => {
    const parsed = parse('messenger-sticker')
    expect(parsed.media).toHaveLength(1)
    expect(parsed.media[0]).toMatchObject({ kind: 'sticker', sourceType: 'sticker', attachmentIndex: 0, sourceExpiresAt: OE })
  })

  it('reel and ig_reel: videos, each at its own index', () => {
    const parsed = parse('messenger-reels')
    expect(parsed.media.map((m) => [m.sourceType, m.kind, m.attachmentIndex])).toEqual([
      ['reel', 'video', 0],
      ['ig_reel', 'video', 1],
    ])
    expect(parsed.media[0]?.sourceExpiresAt).toEqual(OE)
    expect(parsed.media[1]?.sourceExpiresAt).toBeNull()
  })

  it('appointment_booking and fallback without a URL: no record and no problem; the image after them keeps its index', () => {
    const parsed = parse('messenger-appointment-fallback')
    expect(parsed.problems).toEqual([])
    expect(parsed.media.map((m) => [m.sourceType, m.attachmentIndex])).toEqual([['image', 3]])
  })
})

describe('Instagram attachment types of 2026', () => {
  it('ig_post keeps ig_post_media_id and title', () => {
    const parsed = parse('instagram-ig-post')
    expect(parsed.problems).toEqual([])
    expect(parsed.media).toHaveLength(1)
    expect(parsed.media[0]).toMatchObject({ kind: 'share', sourceType: 'ig_post', igPostMediaId: '18045678901234567', title: 'Autumn collection, part 2' })
  })

  it('ig_story: a story', () => {
    expect(parse('instagram-ig-story').media.map((m) => [m.kind, m.sourceType])).toEqual([['story', 'ig_story']])
  })

  it('unsupported_type: downloaded when it has a URL (kind unknown until the bytes say), nothing when it has none', () => {
    const parsed = parse('instagram-unsupported-type')
    expect(parsed.problems).toEqual([])
    expect(parsed.media.map((m) => [m.kind, m.sourceType, m.attachmentIndex])).toEqual([['unknown', 'unsupported_type', 0]])
  })

  it('title and ig_post_media_id are read only from ig_post', () => {
    const parsed = parse('messenger-reels')
    expect(parsed.media.every((m) => m.title === null && m.igPostMediaId === null)).toBe(true)
  })
})
