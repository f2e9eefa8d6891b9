/**
 * The shapes of the Meta webhooks mediagate reads, as Meta documents them (the sources are
 * listed in test/fixtures/webhooks/README.md).
 * They describe what a well-formed delivery looks like; `parseWebhook` never trusts them and
 * checks every field it uses, because a body is only as well-formed as its sender.
 */
import type { NewMedia, Platform } from '../../media/record.js'

// ───────────────────────── WhatsApp Cloud API (`whatsapp_business_account`) ─────────────────────────

export interface WhatsAppWebhookPayload {
  object: 'whatsapp_business_account'
  entry: WhatsAppEntry[]
}

export interface WhatsAppEntry {
  /** WhatsApp Business Account id. */
  id: string
  changes: WhatsAppChange[]
}

export interface WhatsAppChange {
  /** Only `messages` carries media; other fields (account_update, templates…) are ignored. */
  field: string
  value: WhatsAppChangeValue
}

export interface WhatsAppChangeValue {
  messaging_product: 'whatsapp'
  /** `phone_number_id` is the business number that received the message: the account we route on. */
  metadata: { display_phone_number: string; phone_number_id: string }
  contacts?: { profile?: { name?: string }; wa_id: string; identity_key_hash?: string }[]
  messages?: WhatsAppMessage[]
  /** Delivery reports about messages the business sent; they carry no media. */
  statuses?: WhatsAppStatus[]
  /** System-, app- or account-level errors, not tied to one message. */
  errors?: WhatsAppError[]
}

/** The message types that carry a media object under the key of the same name. */
export type WhatsAppMediaType = 'image' | 'video' | 'audio' | 'document' | 'sticker'

export interface WhatsAppMessage {
  /** The sender's WhatsApp id (phone number digits). */
  from: string
  /** `wamid.…`, the dedup key Meta documents. */
  id: string
  /** Unix seconds, as a string. */
  timestamp: string
  /** A media type, or text, location, contacts, interactive, button, reaction, unsupported… */
  type: string
  image?: WhatsAppMedia
  video?: WhatsAppMedia
  audio?: WhatsAppMedia
  document?: WhatsAppMedia
  sticker?: WhatsAppMedia
  /** Present with `errors` when Cloud API could not hand the message over (e.g. 131051, 131052). */
  unsupported?: { type?: string }
  errors?: WhatsAppError[]
  context?: { from?: string; id?: string; forwarded?: boolean; frequently_forwarded?: boolean }
  referral?: Record<string, unknown>
  [other: string]: unknown
}

/** The media object of an inbound message; which fields appear depends on the type. */
export interface WhatsAppMedia {
  /** Media id, resolved with `GET /{id}`; valid 7 days after the webhook. */
  id: string
  mime_type: string
  /** Hex or base64: Meta's documents and real traffic disagree. */
  sha256: string
  /** A short-lived download URL, sent since November 2025 (gradually); an optimisation only. */
  url?: string
  /** image, video, document. */
  caption?: string
  /** document. */
  filename?: string
  /** audio: true for a voice recording. */
  voice?: boolean
  /** sticker. */
  animated?: boolean
}

export interface WhatsAppStatus {
  id: string
  status: 'sent' | 'delivered' | 'read' | 'failed' | string
  timestamp: string
  recipient_id: string
  conversation?: Record<string, unknown>
  pricing?: Record<string, unknown>
  errors?: WhatsAppError[]
}

export interface WhatsAppError {
  /** Branch on this; titles are being deprecated. */
  code: number
  title?: string
  message?: string
  error_data?: { details?: string }
  href?: string
}

// ───────────────────────── Messenger (`page`) and Instagram (`instagram`) ─────────────────────────

export interface MessagingWebhookPayload {
  object: 'page' | 'instagram'
  entry: MessagingEntry[]
}

export interface MessagingEntry {
  /** Page id (Messenger) or Instagram professional account id: the account we route on. */
  id: string
  /** Milliseconds. */
  time: number
  messaging?: MessagingEvent[]
  /** Events of conversations another app controls (handover protocol); same shape. */
  standby?: MessagingEvent[]
}

export interface MessagingEvent {
  /** PSID / IGSID of the user; the page or IG account itself for echoes. */
  sender: { id: string; user_ref?: string }
  recipient: { id: string }
  /** Milliseconds. */
  timestamp: number
  /** Absent for deliveries, reads, postbacks, reactions…: those carry no media. */
  message?: MessagingMessage
  [other: string]: unknown
}

export interface MessagingMessage {
  mid: string
  text?: string
  attachments?: MessagingAttachment[]
  /** A message the page or IG account sent (Messenger `message_echoes`; IG within `messages`). */
  is_echo?: boolean
  app_id?: number
  metadata?: string
  /**
   * The user unsent the message. Documented for Instagram; Messenger's `message_deletes`
   * subscription is taken to deliver the same shape (unconfirmed).
   */
  is_deleted?: boolean
  /** Instagram: a message type the API does not support. */
  is_unsupported?: boolean
  /** Legacy Messenger stickers also carried the id on the message. */
  sticker_id?: number
  reply_to?: { mid?: string; story?: { url?: string; id?: string } }
  quick_reply?: { payload?: string }
  [other: string]: unknown
}

/**
 * Messenger: image, audio, video, file, sticker, reel, ig_reel, post, ig_post, fallback,
 * location, template, appointment_booking. Instagram: image, video, audio, file, share,
 * story_mention, ig_reel, reel (and, with Instagram Login, ig_post, story, ig_story, media).
 */
export interface MessagingAttachment {
  type: string
  /** Only attachments whose payload has a `url` carry media bytes. */
  payload?: MessagingAttachmentPayload
  /** Older shapes put a title (and a link) on the attachment itself. */
  title?: string
  url?: string
}

export interface MessagingAttachmentPayload {
  /** CDN URL (fbcdn.net, fbsbx.com, cdninstagram.com), usually signed with an `oe` hex expiry. */
  url?: string
  /** Stickers, in both the legacy `image` and the new `sticker` attachment. */
  sticker_id?: number | string
  title?: string
  [other: string]: unknown
}

// ───────────────────────── What parseWebhook returns ─────────────────────────

export interface ParseWebhookOptions {
  /** When the body arrived; WhatsApp media ids expire 7 days after it. */
  receivedAt: Date
}

/** A user took a message back; its stored media may have to go (a policy decision for the caller). */
export interface Unsend {
  platform: Platform
  accountId: string
  messageId: string
}

/** A webhook body reduced to what mediagate acts on. */
export interface ParsedWebhook {
  /** The payload's `object`; '' when absent or not a string. */
  object: string
  /** True for whatsapp_business_account, page and instagram. */
  supported: boolean
  /** One per attachment that carries (or failed to carry) media bytes, in payload order. */
  media: NewMedia[]
  /** Messenger/Instagram messages the user unsent. */
  unsends: Unsend[]
  /** Human-readable notes on what was skipped and why; never contain field values. */
  problems: string[]
}
