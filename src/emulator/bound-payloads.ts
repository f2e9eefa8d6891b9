/**
 * Payload builders bound to an emulator: the pure builders, plus shortcuts that fill a webhook
 * from registered media (id, MIME type, sha256 in the media's encoding, CDN URL).
 */
import type { RegisteredMedia } from './types.js'
import {
  type AttachmentInput,
  type MessagingMessageInput,
  type MessagingWebhook,
  type WhatsAppAccountInput,
  type WhatsAppMediaType,
  type WhatsAppMessageInput,
  type WhatsAppWebhook,
  batch,
  instagramMessage,
  instagramMessages,
  messengerMessage,
  messengerMessages,
  stickerTwins,
  unsendMessage,
  whatsappError,
  whatsappMessage,
  whatsappMessages,
  whatsappStatus,
} from './webhook-payloads.js'

export interface WhatsAppMediaOptions extends WhatsAppAccountInput, Omit<WhatsAppMessageInput, 'media' | 'text'> {
  /** Default: from the MIME type (webp → sticker, image/video/audio, anything else → document). */
  type?: WhatsAppMediaType
  caption?: string
  filename?: string
  voice?: boolean
  animated?: boolean
  /** Include the `url` field (a fresh download URL), as newer webhooks do. */
  withUrl?: boolean
}

export interface MessagingMediaOptions extends Omit<MessagingMessageInput, 'attachments'> {
  /** Attachment type for every media; default from the MIME type (`file` for non-media). */
  type?: string
  pageId?: string
  psid?: string
  igId?: string
  igsid?: string
}

const PURE = {
  whatsappMessage,
  whatsappMessages,
  whatsappError,
  whatsappStatus,
  messengerMessage,
  messengerMessages,
  instagramMessage,
  instagramMessages,
  unsendMessage,
  stickerTwins,
  batch,
}

export type PayloadBuilders = typeof PURE & {
  whatsappMedia(media: RegisteredMedia, opts?: WhatsAppMediaOptions): WhatsAppWebhook
  messengerMedia(media: RegisteredMedia | RegisteredMedia[], opts?: MessagingMediaOptions): MessagingWebhook
  instagramMedia(media: RegisteredMedia | RegisteredMedia[], opts?: MessagingMediaOptions): MessagingWebhook
}

export function whatsappTypeFor(mimeType: string): WhatsAppMediaType {
  if (mimeType === 'image/webp') return 'sticker'
  if (mimeType.startsWith('image/')) return 'image'
  if (mimeType.startsWith('video/')) return 'video'
  if (mimeType.startsWith('audio/')) return 'audio'
  return 'document'
}

export function attachmentTypeFor(mimeType: string): string {
  for (const t of ['image', 'video', 'audio'] as const) if (mimeType.startsWith(`${t}/`)) return t
  return 'file'
}

export function bindPayloads(emulator: { whatsappUrl(id: string): string; remember?(payload: unknown): void }): PayloadBuilders {
  const attachments = (media: RegisteredMedia | RegisteredMedia[], type?: string): AttachmentInput[] =>
    (Array.isArray(media) ? media : [media]).map((m) => ({ type: type ?? attachmentTypeFor(m.mimeType), ...(m.url === undefined ? {} : { url: m.url }) }))
  return {
    ...PURE,
    whatsappMedia(media, opts = {}) {
      const { type, caption, filename, voice, animated, withUrl, ...rest } = opts
      return whatsappMessage({
        ...rest,
        media: {
          type: type ?? whatsappTypeFor(media.mimeType),
          id: media.id,
          mime_type: media.mimeType,
          sha256: media.sha256,
          ...(caption === undefined ? {} : { caption }),
          ...(filename ?? media.filename ? { filename: filename ?? media.filename } : {}),
          ...(voice === undefined ? {} : { voice }),
          ...(animated === undefined ? {} : { animated }),
          ...(withUrl ? { url: emulator.whatsappUrl(media.id) } : {}),
        },
      })
    },
    messengerMedia(media, opts = {}) {
      const { type, ...rest } = opts
      const payload = messengerMessage({ ...rest, attachments: attachments(media, type) })
      // Graph's Message node answers for the messages the emulator built (re-fetching).
      emulator.remember?.(payload)
      return payload
    },
    instagramMedia(media, opts = {}) {
      const { type, ...rest } = opts
      const payload = instagramMessage({ ...rest, attachments: attachments(media, type) })
      emulator.remember?.(payload)
      return payload
    },
  }
}
