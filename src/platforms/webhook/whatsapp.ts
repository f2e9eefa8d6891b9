/**
 * WhatsApp Cloud API `messages` webhooks → media records. One inbound media message is one
 * record (attachment index 0) keyed by its wamid; the media id it names is resolved later by
 * the worker and lives 7 days from the webhook. Statuses, texts, locations and the like carry
 * no media and produce nothing.
 */
import type { MediaKind, NewMedia } from '../../media/record.js'
import { asId, asToken, Fields, isRecord, own } from './fields.js'
import { newMedia } from './new-media.js'
import type { ParseContext } from './parse-context.js'
import { firstError, metaError, syntheticErrorId } from './whatsapp-errors.js'

/** Media ids from webhooks can be resolved for 7 days [M1]. */
export const WHATSAPP_MEDIA_ID_TTL_MS = 7 * 24 * 60 * 60 * 1000
const MAX_CAPTION = 65_536

/**
 * Message types whose media object sits under the key of the same name. `voice` is how the
 * On-Premises API named voice notes; Cloud API sends `audio` with `voice: true`.
 */
const MEDIA_TYPES: ReadonlyMap<string, MediaKind> = new Map([
  ['image', 'image'],
  ['video', 'video'],
  ['audio', 'audio'],
  ['document', 'document'],
  ['sticker', 'sticker'],
  ['voice', 'audio'],
])

/** What an `unsupported.type` may name that is still media, though Cloud API did not deliver it. */
const UNSUPPORTED_MEDIA: ReadonlyMap<string, MediaKind> = new Map([...MEDIA_TYPES, ['gif', 'video']])

/** Types that never carry media: an error about one of them is not a lost attachment. */
const NOT_MEDIA = new Set([
  'text', 'reaction', 'location', 'contacts', 'interactive', 'button', 'order', 'system', 'request_welcome',
  'poll_creation', 'poll_update', 'group_invite', 'hsm', 'keep_in_chat', 'list', 'pin', 'product', 'link_preview',
  'edit', 'revoke', 'ephemeral',
])

export function parseWhatsAppEntry(item: unknown, path: string, ctx: ParseContext): void {
  if (!isRecord(item)) return ctx.note(path, 'is not an object; skipped')
  const entry = new Fields(item, path, ctx)
  const changes = entry.list('changes')
  if (!changes) return
  const entryId = asId(entry.get('id')) ?? ''
  ctx.each(changes, `${path}.changes`, (change, changePath) => parseChange(change, changePath, entryId, ctx))
}

function parseChange(item: unknown, path: string, entryId: string, ctx: ParseContext): void {
  if (!isRecord(item)) return ctx.note(path, 'is not an object; skipped')
  const field = own(item, 'field')
  if (field !== 'messages') {
    // Other fields (account_update, message_template_status_update…) are legitimate and carry no media.
    if (typeof field !== 'string') ctx.note(path, '`field` is not a string; skipped')
    return
  }
  const rawValue = own(item, 'value')
  if (!isRecord(rawValue)) return ctx.note(path, '`value` is not an object; skipped')
  const value = new Fields(rawValue, `${path}.value`, ctx)
  const messages = value.list('messages')
  const errors = value.list('errors')
  if (!messages?.length && !errors?.length) return
  const metadata = value.get('metadata')
  const accountId = isRecord(metadata) ? asId(own(metadata, 'phone_number_id')) : null
  if (!accountId) return ctx.note(value.path, '`metadata.phone_number_id` is missing or not an id; its messages and errors were skipped')
  const contacts = readContacts(value, ctx)
  if (messages) ctx.each(messages, `${value.path}.messages`, (m, p) => parseMessage(m, p, accountId, contacts, ctx))
  if (errors) {
    ctx.each(errors, `${value.path}.errors`, (e, p) => {
      if (!isRecord(e)) return ctx.note(p, 'is not an object; skipped')
      ctx.media.push(
        newMedia({
          platform: 'whatsapp',
          accountId,
          messageId: syntheticErrorId(entryId, accountId, e),
          attachmentIndex: 0,
          direction: 'inbound',
          kind: 'unknown',
          sourceType: 'errors',
          error: metaError(e),
        }),
      )
    })
  }
}

/** One `contacts[]` entry: the phone number (absent for some users with a username) and the BSUID. */
interface Contact {
  waId: string | null
  userId: string | null
}

/**
 * A BSUID: a two-letter country code, a dot, up to 128 alphanumerics (`US.13491208655302741918`);
 * a parent BSUID has `ENT.` after the country (`US.ENT.…`) [N2][N3].
 */
const BSUID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/

function asBsuid(value: unknown): string | null {
  return typeof value === 'string' && BSUID.test(value) ? value : null
}

function readContacts(value: Fields, ctx: ParseContext): Contact[] {
  const list = value.list('contacts')
  if (!list) return []
  const contacts: Contact[] = []
  ctx.each(list, `${value.path}.contacts`, (item, path) => {
    if (!isRecord(item)) return ctx.note(path, 'is not an object; skipped')
    const contact = new Fields(item, path, ctx)
    const rawUserId = contact.get('user_id')
    const userId = asBsuid(rawUserId)
    if (rawUserId !== undefined && rawUserId !== null && userId === null) ctx.note(path, '`user_id` is not a business-scoped user id; ignored')
    contacts.push({ waId: contact.id('wa_id'), userId })
  })
  return contacts
}

/**
 * The sender's BSUID: the message's own user id where present (the field's name on the message
 * is not confirmed: `from_user_id` and `user_id` are both read), else the matching contact's:
 * the one with the message's phone number, or the only contact when the message has none.
 */
function senderUserId(msg: Fields, from: string | null, contacts: readonly Contact[]): string | null {
  const onMessage = asBsuid(msg.get('from_user_id')) ?? asBsuid(msg.get('user_id'))
  if (onMessage) return onMessage
  const byPhone = from !== null ? contacts.find((c) => c.waId === from) : undefined
  if (byPhone) return byPhone.userId
  return contacts.length === 1 && (from === null || contacts[0]!.waId === null) ? contacts[0]!.userId : null
}

function parseMessage(item: unknown, path: string, accountId: string, contacts: readonly Contact[], ctx: ParseContext): void {
  if (!isRecord(item)) return ctx.note(path, 'is not an object; skipped')
  const msg = new Fields(item, path, ctx)
  const rawType = msg.get('type')
  const type = asToken(rawType)
  if (rawType !== undefined && type === null) ctx.note(path, '`type` is not a type name')
  const error = firstError(msg.list('errors'))
  const mediaKind = type !== null ? MEDIA_TYPES.get(type) : undefined
  if (!error && !mediaKind) return

  const unsupported = msg.get('unsupported')
  const unsupportedType = isRecord(unsupported) ? own(unsupported, 'type') : undefined
  const effectiveType = type === 'unsupported' && typeof unsupportedType === 'string' ? unsupportedType : type
  if (error && effectiveType !== null && NOT_MEDIA.has(effectiveType)) return

  const messageId = asId(msg.get('id'))
  if (!messageId) return ctx.note(path, '`id` is missing or not an id; skipped')
  const rawMedia = type !== null && mediaKind ? msg.get(type) : undefined
  const media = isRecord(rawMedia) ? new Fields(rawMedia, `${path}.${type}`, ctx) : null
  const sourceMediaId = media ? asId(media.get('id')) : null
  if (!error && !sourceMediaId) return ctx.note(path, `\`${type}.id\` is missing or not an id; skipped`)

  const from = msg.id('from')
  const userId = senderUserId(msg, from, contacts)
  const record: NewMedia = newMedia({
    platform: 'whatsapp',
    accountId,
    messageId,
    attachmentIndex: 0,
    // A user with a username may come without a phone number: the BSUID names them then.
    senderId: from ?? userId,
    senderUserId: userId,
    direction: 'inbound',
    kind: mediaKind ?? (effectiveType !== null ? UNSUPPORTED_MEDIA.get(effectiveType) : undefined) ?? 'unknown',
    sourceType: type ?? 'unknown',
    sourceMediaId,
    sentAt: msg.time('timestamp', 's'),
    error: error ? metaError(error) : null,
  })
  if (media) {
    record.sourceUrl = media.url('url')
    record.sourceExpiresAt = sourceMediaId ? new Date(ctx.receivedAt.getTime() + WHATSAPP_MEDIA_ID_TTL_MS) : null
    record.declaredMime = media.mime('mime_type')
    record.declaredSha256 = media.digest('sha256')
    record.caption = media.text('caption', MAX_CAPTION)
    record.filename = media.filename('filename')
    record.voice = type === 'voice' ? true : type === 'audio' ? media.bool('voice') : null
    record.animated = type === 'sticker' ? media.bool('animated') : null
  }
  ctx.media.push(record)
}
