/** The WhatsApp rules beyond the fixtures: what is media, what an error is about, synthetic ids. */
import { describe, expect, it } from 'vitest'
import { parseWebhook } from '../../src/platforms/webhook/parse-webhook.js'

const receivedAt = new Date('2026-10-01T12:00:00.000Z')

function change(value: Record<string, unknown>, field = 'messages', entryId = '102290129340398') {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: entryId, changes: [{ field, value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' }, ...value } }] }],
  }
}

const msg = (fields: Record<string, unknown>) => ({ from: '16505551234', id: 'wamid.TEST1', timestamp: '1739321024', ...fields })
const err = (code: number, title = 'Message type unknown') => ({ code, title, message: title, error_data: { details: title } })

describe('WhatsApp messages', () => {
  it.each([
    ['text', { type: 'text', text: { body: 'hi' } }],
    ['location', { type: 'location', location: { latitude: 1, longitude: 2 } }],
    ['contacts', { type: 'contacts', contacts: [{ name: { formatted_name: 'A' } }] }],
    ['interactive', { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: '1', title: 'Yes' } } }],
    ['reaction', { type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '👍' } }],
  ])('a %s message produces nothing', (_name, fields) => {
    expect(parseWebhook(change({ messages: [msg(fields)] }), { receivedAt })).toMatchObject({ media: [], problems: [] })
  })

  it('an unsupported non-media message with an error (131051 on a poll) is not a lost attachment', () => {
    const parsed = parseWebhook(change({ messages: [msg({ type: 'unsupported', unsupported: { type: 'poll_update' }, errors: [err(131051)] })] }), { receivedAt })
    expect(parsed.media).toEqual([])
  })

  it('an unsupported message that names a media type gets that kind', () => {
    const parsed = parseWebhook(change({ messages: [msg({ type: 'unsupported', unsupported: { type: 'gif' }, errors: [err(131051)] })] }), { receivedAt })
    expect(parsed.media).toMatchObject([{ kind: 'video', sourceType: 'unsupported', error: { code: 'meta_error', message: '131051: Message type unknown', vendorCode: 131051 } }])
  })

  it('describes an error by title, then message, then details, and tolerates a code as a string', () => {
    const parsed = parseWebhook(
      change({
        messages: [
          msg({ id: 'wamid.A', type: 'unsupported', errors: [{ code: '131052', message: 'Media download error' }] }),
          msg({ id: 'wamid.B', type: 'unsupported', errors: [{ code: 'x', error_data: { details: 'only details' } }] }),
          msg({ id: 'wamid.C', type: 'unsupported', errors: [{}] }),
        ],
      }),
      { receivedAt },
    )
    expect(parsed.media.map((m) => m.error)).toEqual([
      { code: 'meta_error', message: '131052: Media download error', vendorCode: 131052 },
      { code: 'meta_error', message: 'unknown: only details', vendorCode: null },
      { code: 'meta_error', message: 'unknown: no description', vendorCode: null },
    ])
  })

  it('reads the On-Premises `voice` type as a voice note', () => {
    const parsed = parseWebhook(change({ messages: [msg({ type: 'voice', voice: { id: '42', mime_type: 'audio/ogg; codecs=opus', sha256: 'a'.repeat(64) } })] }), { receivedAt })
    expect(parsed.media).toMatchObject([{ kind: 'audio', sourceType: 'voice', voice: true, sourceMediaId: '42' }])
  })

  it('skips a media message without a media id, with a note', () => {
    const parsed = parseWebhook(change({ messages: [msg({ type: 'image', image: { mime_type: 'image/jpeg' } })] }), { receivedAt })
    expect(parsed.media).toEqual([])
    expect(parsed.problems).toEqual(['entry[0].changes[0].value.messages[0]: `image.id` is missing or not an id; skipped'])
  })

  it('keeps the media when only an optional field is malformed, and says which', () => {
    const parsed = parseWebhook(
      change({ messages: [msg({ timestamp: 'yesterday', type: 'document', document: { id: '7', mime_type: 42, sha256: 'not a digest!', caption: { a: 1 }, filename: 'a\u0000b\nc.pdf' } })] }),
      { receivedAt },
    )
    expect(parsed.media).toMatchObject([{ sourceMediaId: '7', sentAt: null, declaredMime: null, declaredSha256: null, caption: null, filename: 'abc.pdf' }])
    expect(parsed.problems).toHaveLength(4)
    expect(parsed.problems.join('\n')).toMatch(/`timestamp` is not a unix timestamp/)
  })

  it('routes on phone_number_id and skips a change without one', () => {
    const payload = change({ messages: [msg({ type: 'image', image: { id: '1' } })] })
    delete (payload.entry[0]!.changes[0]!.value as { metadata?: unknown }).metadata
    const parsed = parseWebhook(payload, { receivedAt })
    expect(parsed.media).toEqual([])
    expect(parsed.problems[0]).toMatch(/phone_number_id/)
  })

  it('ignores changes of other fields', () => {
    expect(parseWebhook(change({ messages: [msg({ type: 'image', image: { id: '1' } })] }, 'account_update'), { receivedAt }).media).toEqual([])
  })

  it('iterates every entry and every change', () => {
    const a = change({ messages: [msg({ id: 'wamid.1', type: 'image', image: { id: '1' } }), msg({ id: 'wamid.2', type: 'video', video: { id: '2' } })] })
    const b = change({ messages: [msg({ id: 'wamid.3', type: 'audio', audio: { id: '3' } })] })
    const payload = { object: a.object, entry: [{ ...a.entry[0]!, changes: [...a.entry[0]!.changes, ...b.entry[0]!.changes] }, b.entry[0]!] }
    expect(parseWebhook(payload, { receivedAt }).media.map((m) => m.messageId)).toEqual(['wamid.1', 'wamid.2', 'wamid.3', 'wamid.3'])
  })
})

describe('change-level errors', () => {
  const ids = (payload: unknown) => parseWebhook(payload, { receivedAt }).media.map((m) => m.messageId)

  it('get the same id on every redelivery, and different ids for different errors or entries', () => {
    const first = ids(change({ errors: [err(130429, 'Rate limit hit')] }))
    expect(ids(change({ errors: [err(130429, 'Rate limit hit')] }))).toEqual(first)
    expect(ids(change({ errors: [err(131000, 'Something went wrong')] }))).not.toEqual(first)
    expect(ids(change({ errors: [err(130429, 'Rate limit hit')] }, 'messages', '999'))).not.toEqual(first)
  })
})
