/**
 * Messenger (`page`) and Instagram (`instagram`) messaging webhooks → media records. Both use
 * the Messenger Platform's `entry[].messaging[]` shape (and `standby[]` under the handover
 * protocol). Their differences are in the data, not the shape: the platform name, the account
 * (page vs IG professional account), the attachment types each sends, and the sticker twins
 * that only Messenger sends. Attachments are downloaded from their CDN URL without a token.
 */
import type { Direction, NewMedia, Platform } from '../../media/record.js'
import { type AttachmentSlot, attachmentKind, cdnExpiry, dropStickerTwins, stickerIdOf } from './attachments.js'
import { asId, asToken, Fields, isRecord, own } from './fields.js'
import { newMedia } from './new-media.js'
import type { ParseContext } from './parse-context.js'

type MessagingPlatform = Extract<Platform, 'messenger' | 'instagram'>

interface Slot extends AttachmentSlot {
  /** Set only for attachments that carry media. */
  media: { kind: NewMedia['kind']; url: string; igPostMediaId: string | null; title: string | null } | null
}

export function parseMessagingEntry(platform: MessagingPlatform, item: unknown, path: string, ctx: ParseContext): void {
  if (!isRecord(item)) return ctx.note(path, 'is not an object; skipped')
  const entry = new Fields(item, path, ctx)
  const accountId = asId(entry.get('id'))
  if (!accountId) return ctx.note(path, '`id` is missing or not an id; skipped')
  for (const key of ['messaging', 'standby']) {
    const events = entry.list(key)
    if (events) ctx.each(events, `${path}.${key}`, (event, eventPath) => parseEvent(platform, accountId, event, eventPath, ctx))
  }
}

function parseEvent(platform: MessagingPlatform, accountId: string, item: unknown, path: string, ctx: ParseContext): void {
  if (!isRecord(item)) return ctx.note(path, 'is not an object; skipped')
  const event = new Fields(item, path, ctx)
  const rawMessage = event.get('message')
  // Deliveries, reads, postbacks, reactions, referrals: legitimate, and without media.
  if (rawMessage === undefined) return
  if (!isRecord(rawMessage)) return ctx.note(path, '`message` is not an object; skipped')
  const message = new Fields(rawMessage, `${path}.message`, ctx)
  const mid = asId(message.get('mid'))

  if (message.get('is_deleted') === true) {
    if (!mid) return ctx.note(message.path, 'an unsend without a valid `mid`; skipped')
    ctx.unsends.push({ platform, accountId, messageId: mid })
    return
  }
  const attachments = message.list('attachments')
  if (!attachments || attachments.length === 0) return
  if (!mid) return ctx.note(message.path, '`mid` is missing or not an id; its attachments were skipped')

  const slots: Slot[] = []
  ctx.each(attachments, `${message.path}.attachments`, (a, p) => slots.push(readAttachment(a, p, ctx)))
  const sender = event.get('sender')
  const senderId = isRecord(sender) ? new Fields(sender, `${path}.sender`, ctx).id('id') : null
  const direction: Direction = message.get('is_echo') === true ? 'outbound' : 'inbound'
  const sentAt = event.time('timestamp', 'ms')

  // Positions count every attachment (media or not) once the legacy sticker twin is gone, so
  // they stay put if Meta later adds a URL to a type that had none, or ends the transition.
  dropStickerTwins(slots).forEach((slot, attachmentIndex) => {
    if (!slot.media) return
    ctx.media.push(
      newMedia({
        platform,
        accountId,
        messageId: mid,
        attachmentIndex,
        senderId,
        direction,
        kind: slot.media.kind,
        sourceType: slot.type,
        sourceUrl: slot.media.url,
        sourceExpiresAt: cdnExpiry(slot.media.url),
        igPostMediaId: slot.media.igPostMediaId,
        title: slot.media.title,
        sentAt,
      }),
    )
  })
}

const MAX_TITLE = 4096

const EMPTY: Slot = { type: '', stickerId: null, media: null }

function readAttachment(item: unknown, path: string, ctx: ParseContext): Slot {
  if (!isRecord(item)) {
    ctx.note(path, 'is not an object; skipped')
    return EMPTY
  }
  const type = asToken(own(item, 'type'))
  if (type === null) {
    ctx.note(path, '`type` is missing or not a type name; skipped')
    return EMPTY
  }
  const rawPayload = own(item, 'payload')
  // An unsupported share may come as a bare `{type: "fallback"}`: nothing to fetch.
  if (!isRecord(rawPayload)) return { type, stickerId: null, media: null }
  const payload = new Fields(rawPayload, `${path}.payload`, ctx)
  const stickerId = stickerIdOf(payload.get('sticker_id'))
  const kind = attachmentKind(type, stickerId)
  const url = kind === null ? null : payload.url('url')
  if (kind === null || url === null) return { type, stickerId, media: null }
  // An `ig_post` names the shared post and its title [N8]; other types carry neither.
  const post = type === 'ig_post'
  return {
    type,
    stickerId,
    media: { kind, url, igPostMediaId: post ? payload.id('ig_post_media_id') : null, title: post ? payload.text('title', MAX_TITLE) : null },
  }
}
