/**
 * Pure builders of Messenger (`object: "page"`) and Instagram Messaging (`object: "instagram"`)
 * webhooks: `entry[].messaging[]` events with `message.attachments[]`, echoes, the sticker
 * transition twins, attachments without a URL (`fallback`, `location`, `template`) and unsends.
 */
import { randomBytes } from 'node:crypto'

export const MESSAGING_DEFAULTS = Object.freeze({
  pageId: '1234567890123456',
  psid: '2345678901234567',
  igId: '17841400000000000',
  igsid: '3456789012345678',
  appId: '1517776481860111',
})

/**
 * Messenger: image, audio, video, file, sticker, fallback, location, template, reel, ig_reel,
 * post, ig_post, appointment_booking; Instagram: image, video, audio, file, share, story_mention,
 * ig_reel, reel, ig_post, ig_story, unsupported_type, sticker.
 */
export interface AttachmentInput {
  type: string
  url?: string
  sticker_id?: number | string
  title?: string
  /** `ig_post`: the shared post's media id. */
  ig_post_media_id?: string
  /** Replaces the generated payload entirely (e.g. a template's elements). */
  payload?: Record<string, unknown> | null
}

export interface MessagingEvent {
  sender: { id: string }
  recipient: { id: string }
  timestamp: number
  message?: Record<string, unknown>
  [other: string]: unknown
}

export interface MessagingWebhook {
  object: 'page' | 'instagram'
  entry: { id: string; time: number; messaging: MessagingEvent[] }[]
}

export function newMid(platform: 'messenger' | 'instagram' = 'messenger'): string {
  return platform === 'instagram' ? `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE${randomBytes(27).toString('base64url')}` : `m_${randomBytes(42).toString('base64url')}`
}

/** The legacy and the new form of one sticker, both sent during Meta's 90-day transition. */
export function stickerTwins(url: string, stickerId: number | string = 369239263222822): AttachmentInput[] {
  return [
    { type: 'image', url, sticker_id: stickerId },
    { type: 'sticker', url, sticker_id: stickerId },
  ]
}

function attachment(a: AttachmentInput): Record<string, unknown> {
  if (a.payload !== undefined) return a.payload === null ? { type: a.type } : { type: a.type, payload: a.payload }
  switch (a.type) {
    case 'fallback': {
      // Unsupported shares may come with no payload at all, or only a title (no URL).
      if (a.url === undefined && a.title === undefined) return { type: 'fallback' }
      const payload: Record<string, unknown> = {}
      if (a.url !== undefined) payload.url = a.url
      if (a.title !== undefined) payload.title = a.title
      return { type: 'fallback', payload }
    }
    case 'location':
      return { type: 'location', title: a.title ?? 'Pinned Location', payload: { coordinates: { lat: 48.8584, long: 2.2945 } } }
    case 'appointment_booking':
      // Booking fields, never a URL [M10].
      return { type: 'appointment_booking', payload: { appointment_id: '987654321012345', status: 'confirmed', start_time: Math.floor(Date.now() / 1000) + 86_400, title: a.title ?? 'Appointment' } }
    case 'template':
      return {
        type: 'template',
        payload: { template_type: 'generic', elements: [{ title: a.title ?? 'Emulated template', subtitle: 'emulator', buttons: [] }] },
      }
    default: {
      const payload: Record<string, unknown> = {}
      if (a.url !== undefined) payload.url = a.url
      if (a.sticker_id !== undefined) payload.sticker_id = Number(a.sticker_id)
      if (a.title !== undefined) payload.title = a.title
      if (a.ig_post_media_id !== undefined) payload.ig_post_media_id = a.ig_post_media_id
      return { type: a.type, payload }
    }
  }
}

export interface MessagingMessageInput {
  mid?: string
  text?: string
  attachments?: AttachmentInput[]
  /** A message the page (or IG account) itself sent: sender and recipient swap, `is_echo` is set. */
  isEcho?: boolean
  appId?: string
  /** Milliseconds; default now. */
  timestamp?: number
}

function messageEvent(platform: 'messenger' | 'instagram', accountId: string, userId: string, m: MessagingMessageInput): MessagingEvent {
  const message: Record<string, unknown> = { mid: m.mid ?? newMid(platform) }
  if (m.isEcho) {
    message.is_echo = true
    message.app_id = Number(m.appId ?? MESSAGING_DEFAULTS.appId)
  }
  if (m.text !== undefined) message.text = m.text
  if (m.attachments?.length) {
    message.attachments = m.attachments.map(attachment)
    // Legacy stickers also carried the id on the message itself.
    const sticker = m.attachments.find((a) => a.sticker_id !== undefined)
    if (sticker && platform === 'messenger') message.sticker_id = Number(sticker.sticker_id)
  }
  const [sender, recipient] = m.isEcho ? [accountId, userId] : [userId, accountId]
  return { sender: { id: sender }, recipient: { id: recipient }, timestamp: m.timestamp ?? Date.now(), message }
}

function webhook(object: 'page' | 'instagram', accountId: string, events: MessagingEvent[]): MessagingWebhook {
  return { object, entry: [{ id: accountId, time: Date.now(), messaging: events }] }
}

export interface MessengerMessageInput extends MessagingMessageInput {
  pageId?: string
  psid?: string
}

export function messengerMessage(input: MessengerMessageInput): MessagingWebhook {
  return messengerMessages({ ...input, messages: [input] })
}

/** Several messaging events in one entry. */
export function messengerMessages(input: { pageId?: string; psid?: string; messages: MessagingMessageInput[] }): MessagingWebhook {
  const pageId = input.pageId ?? MESSAGING_DEFAULTS.pageId
  const psid = input.psid ?? MESSAGING_DEFAULTS.psid
  return webhook('page', pageId, input.messages.map((m) => messageEvent('messenger', pageId, psid, m)))
}

export interface InstagramMessageInput extends MessagingMessageInput {
  igId?: string
  igsid?: string
}

export function instagramMessage(input: InstagramMessageInput): MessagingWebhook {
  return instagramMessages({ ...input, messages: [input] })
}

export function instagramMessages(input: { igId?: string; igsid?: string; messages: MessagingMessageInput[] }): MessagingWebhook {
  const igId = input.igId ?? MESSAGING_DEFAULTS.igId
  const igsid = input.igsid ?? MESSAGING_DEFAULTS.igsid
  return webhook('instagram', igId, input.messages.map((m) => messageEvent('instagram', igId, igsid, m)))
}

export interface UnsendInput {
  mid: string
  /** Page id (Messenger) or IG account id (Instagram). */
  accountId?: string
  /** PSID or IGSID of the user who unsent. */
  userId?: string
  timestamp?: number
}

/**
 * A user unsent a message: `message: { mid, is_deleted: true }`. Instagram documents this shape;
 * Messenger delivers unsends on its `message_deletes` field, which the emulator sends the same way.
 */
export function unsendMessage(platform: 'messenger' | 'instagram', input: UnsendInput): MessagingWebhook {
  const accountId = input.accountId ?? (platform === 'instagram' ? MESSAGING_DEFAULTS.igId : MESSAGING_DEFAULTS.pageId)
  const userId = input.userId ?? (platform === 'instagram' ? MESSAGING_DEFAULTS.igsid : MESSAGING_DEFAULTS.psid)
  const event: MessagingEvent = { sender: { id: userId }, recipient: { id: accountId }, timestamp: input.timestamp ?? Date.now(), message: { mid: input.mid, is_deleted: true } }
  return webhook(platform === 'instagram' ? 'instagram' : 'page', accountId, [event])
}
