/**
 * Meta's limits for media sent by upload, checked before uploading (reference §1.5, §3.4, §8):
 * which types each platform takes, as what, and up to what size. A media that passes goes as
 * it is; one that does not is refused here with the limit named, rather than by Meta after the
 * bytes went over the wire.
 */
import { MediagateError } from '../errors.js'
import { baseType } from '../media/mime.js'
import type { MediaKind, Platform } from '../media/record.js'

const KB = 1024
const MB = 1024 * 1024

/** What a media is sent as. */
export interface SendAs {
  /** WhatsApp: the message type (image, audio, video, sticker, document). Messenger/Instagram: the attachment type (image, audio, video, file). */
  type: string
  mimeType: string
  /** The platform's limit for that type, in bytes. */
  maxBytes: number
}

export interface SendableMedia {
  mimeType: string | null
  size: number
  kind: MediaKind
  animated: boolean | null
}

interface Rule {
  type: string
  types: readonly string[]
  maxBytes: number
  /** Shown in messages. */
  label: string
}

const OFFICE = [
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
]

const WHATSAPP: Record<string, Rule> = {
  image: { type: 'image', types: ['image/jpeg', 'image/png'], maxBytes: 5 * MB, label: 'WhatsApp images (JPEG, PNG): 5 MB' },
  audio: { type: 'audio', types: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'], maxBytes: 16 * MB, label: 'WhatsApp audio (AAC, AMR, MP3, MP4, OGG/Opus): 16 MB' },
  video: { type: 'video', types: ['video/mp4', 'video/3gpp'], maxBytes: 16 * MB, label: 'WhatsApp video (MP4, 3GPP with H.264 and AAC): 16 MB' },
  sticker: { type: 'sticker', types: ['image/webp'], maxBytes: 100 * KB, label: 'WhatsApp stickers (WebP): 100 KB static' },
  animatedSticker: { type: 'sticker', types: ['image/webp'], maxBytes: 500 * KB, label: 'WhatsApp stickers (WebP): 500 KB animated' },
  document: { type: 'document', types: ['text/plain', 'application/pdf', ...OFFICE], maxBytes: 100 * MB, label: 'WhatsApp documents (text, PDF, Office): 100 MB' },
}

const MESSENGER: Record<string, Rule> = {
  image: { type: 'image', types: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 8 * MB, label: 'Messenger images (JPEG, PNG, GIF): 8 MB' },
  audio: { type: 'audio', types: ['audio/*'], maxBytes: 25 * MB, label: 'Messenger audio: 25 MB' },
  video: { type: 'video', types: ['video/*'], maxBytes: 25 * MB, label: 'Messenger video: 25 MB' },
  document: { type: 'file', types: ['*'], maxBytes: 25 * MB, label: 'Messenger files: 25 MB' },
}

const INSTAGRAM: Record<string, Rule> = {
  image: { type: 'image', types: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 8 * MB, label: 'Instagram images (PNG, JPEG, GIF): 8 MB' },
  audio: { type: 'audio', types: ['audio/aac', 'audio/mp4', 'audio/x-m4a', 'audio/wav', 'audio/x-wav', 'audio/vnd.wave'], maxBytes: 25 * MB, label: 'Instagram audio (AAC, M4A, WAV, MP4): 25 MB' },
  video: { type: 'video', types: ['video/mp4', 'video/ogg', 'video/x-msvideo', 'video/quicktime', 'video/webm'], maxBytes: 25 * MB, label: 'Instagram video (MP4, OGG, AVI, MOV, WebM): 25 MB' },
  document: { type: 'file', types: ['application/pdf'], maxBytes: 25 * MB, label: 'Instagram files (PDF): 25 MB' },
}

function matches(types: readonly string[], mime: string): boolean {
  return types.some((t) => t === '*' || t === mime || (t.endsWith('/*') && mime.startsWith(t.slice(0, -1))))
}

function ruleFor(platform: Platform, media: SendableMedia, mime: string): Rule | undefined {
  const top = mime.split('/')[0]
  const category = top === 'image' || top === 'audio' || top === 'video' ? top : 'document'
  if (platform === 'whatsapp') {
    // WebP goes to WhatsApp only as a sticker.
    if (mime === 'image/webp' && media.kind === 'sticker') return media.animated ? WHATSAPP.animatedSticker : WHATSAPP.sticker
    return WHATSAPP[category]
  }
  return (platform === 'messenger' ? MESSENGER : INSTAGRAM)[category]
}

/**
 * How `media` goes to `platform`, or why it cannot: `unsupported_media` (a type the platform does
 * not take), `too_large_for_platform` (over the limit for its type). `opus`: whether an
 * `audio/ogg` media carries Opus (the only Ogg audio WhatsApp takes); undefined: not known.
 */
export function sendAs(platform: Platform, media: SendableMedia, opus?: boolean): SendAs {
  const mime = baseType(media.mimeType)
  if (!mime) throw new MediagateError('unsupported_media', `the media has no known type; ${platform} needs one of its accepted types`)
  const rule = ruleFor(platform, media, mime)
  if (!rule || !matches(rule.types, mime)) {
    const accepted = rule ? rule.label : `${platform}'s accepted types`
    throw new MediagateError('unsupported_media', `${platform} does not take ${mime} (${accepted})`)
  }
  if (platform === 'whatsapp' && mime === 'audio/ogg' && opus === false) {
    throw new MediagateError('unsupported_media', 'WhatsApp takes Ogg audio only with the Opus codec (mono): send it with "voice": true to convert it')
  }
  if (media.size > rule.maxBytes) {
    throw new MediagateError('too_large_for_platform', `the media is ${media.size} bytes; the limit is ${rule.label}`)
  }
  return { type: rule.type, mimeType: mime, maxBytes: rule.maxBytes }
}

/** Whether the first bytes of an Ogg stream carry Opus (its first packet is `OpusHead`). */
export function isOggOpus(head: Buffer): boolean {
  return head.subarray(0, 4).toString('latin1') === 'OggS' && head.subarray(0, 128).includes('OpusHead')
}

/** How long Meta keeps what was uploaded: WhatsApp media ids 30 days, reusable attachments 90 days. */
export function handleLifetimeMs(platform: Platform): number {
  return (platform === 'whatsapp' ? 30 : 90) * 24 * 3600_000
}
