/**
 * What a Messenger/Instagram attachment is, and the two rules that come with it: the sticker
 * transition twins are one sticker, and a signed fbcdn URL says when it expires (`oe`).
 */
import type { MediaKind } from '../../media/record.js'

const KINDS: ReadonlyMap<string, MediaKind> = new Map([
  ['image', 'image'],
  ['video', 'video'],
  ['audio', 'audio'],
  ['file', 'document'],
  ['sticker', 'sticker'],
  ['reel', 'video'],
  ['ig_reel', 'video'],
  // Meta does not say whether a story or a shared post is an image or a video; the bytes will.
  ['story_mention', 'story'],
  ['story', 'story'],
  ['ig_story', 'story'],
  ['share', 'share'],
  ['post', 'share'],
  ['ig_post', 'share'],
])

/** Types whose payload is not media even when it holds a link (a shared web page, a map…). */
const NOT_MEDIA = new Set(['fallback', 'location', 'template', 'appointment_booking', 'product'])

/**
 * The kind of an attachment with a payload URL, or null when the type never carries media.
 * Before Meta's `sticker` type, stickers came as `image` with a `sticker_id`. Types Meta adds
 * later are kept as `unknown` rather than dropped: the sniffed bytes will say what they are.
 */
export function attachmentKind(type: string, stickerId: string | null): MediaKind | null {
  if (NOT_MEDIA.has(type)) return null
  if (type === 'image' && stickerId !== null) return 'sticker'
  return KINDS.get(type) ?? 'unknown'
}

/** A sticker id as a string, from the number or string Meta sends; null if there is none. */
export function stickerIdOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
  if (typeof value === 'string' && /^\d{1,32}$/.test(value)) return value
  return null
}

export interface AttachmentSlot {
  type: string
  stickerId: string | null
}

/**
 * During the sticker transition a message carries the same sticker twice: as a legacy `image`
 * with a `sticker_id` and as a `sticker` with the same id. The legacy one is dropped, so the
 * record (and its attachment index) is the same before, during and after the transition.
 */
export function dropStickerTwins<T extends AttachmentSlot>(slots: readonly T[]): T[] {
  const stickers = new Set(slots.filter((s) => s.type === 'sticker' && s.stickerId !== null).map((s) => s.stickerId))
  return slots.filter((s) => !(s.type === 'image' && s.stickerId !== null && stickers.has(s.stickerId)))
}

const EARLIEST_S = Date.UTC(2000, 0, 1) / 1000
const LATEST_S = Date.UTC(2200, 0, 1) / 1000

/**
 * fbcdn URLs are signed with `oh` and expire at `oe`, a unix time in hex seconds; after it the
 * CDN answers 403 "URL signature expired". Null when the URL has no plausible `oe`.
 */
export function cdnExpiry(url: string): Date | null {
  let oe: string | null
  try {
    oe = new URL(url).searchParams.get('oe')
  } catch {
    return null
  }
  if (oe === null || !/^[0-9A-Fa-f]{1,12}$/.test(oe)) return null
  const seconds = Number.parseInt(oe, 16)
  return seconds >= EARLIEST_S && seconds < LATEST_S ? new Date(seconds * 1000) : null
}
