/**
 * The media record: one row per attachment, and at the same time the capture job for it.
 * Intake creates records (`NewMedia`) from normalized webhooks; the worker claims and settles
 * them; serving reads them. Field names are camelCase in code and snake_case on the wire.
 */

export const PLATFORMS = ['whatsapp', 'messenger', 'instagram'] as const
export type Platform = (typeof PLATFORMS)[number]

/**
 * What the attachment is, independent of platform. Messenger `file` and WhatsApp `document`
 * are both `document`; reels are `video`; Instagram story mentions and shares keep their own
 * kinds because Meta does not say whether they are an image or a video (the sniffed type does).
 * `unknown` is for failures Meta reports without saying what was sent (WhatsApp `errors[]`).
 */
export const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'sticker', 'story', 'share', 'unknown'] as const
export type MediaKind = (typeof MEDIA_KINDS)[number]

/**
 * `remote`: the bytes stay at Meta for now (storage policy `lazy` or `proxy`); the worker never
 * claims such a record. A lazy record becomes `stored` when its content is first requested or
 * `mediagate capture` fetches it; a proxy record stays `remote` until it is deleted.
 */
export const MEDIA_STATUSES = ['pending', 'stored', 'failed', 'deleted', 'remote'] as const
export type MediaStatus = (typeof MEDIA_STATUSES)[number]

/**
 * What happens to a platform's media on arrival. `eager`: captured at once by the worker.
 * `lazy` (WhatsApp only): captured on first request, while the media id lives (7 days).
 * `proxy`: never stored; every content request streams from Meta.
 */
export const STORAGE_POLICIES = ['eager', 'lazy', 'proxy'] as const
export type StoragePolicy = (typeof STORAGE_POLICIES)[number]

export type Direction = 'inbound' | 'outbound'

/** A normalized attachment, as intake hands it to the catalog. */
export interface NewMedia {
  platform: Platform
  /** WhatsApp: the business phone_number_id; Messenger: page id; Instagram: IG account id. */
  accountId: string
  /** wamid (WhatsApp) or mid (Messenger/Instagram). */
  messageId: string
  /** Position of the attachment within its message; with platform and messageId, the dedup key. */
  attachmentIndex: number
  senderId: string | null
  direction: Direction
  kind: MediaKind
  /** The platform's own attachment type, e.g. `ig_reel`, `story_mention`, `file`, `voice`. */
  sourceType: string
  /** WhatsApp media id; null for Messenger/Instagram. */
  sourceMediaId: string | null
  /** WhatsApp's optional webhook `url`, or the Messenger/Instagram CDN URL. */
  sourceUrl: string | null
  /** When the source stops being downloadable, if known (WhatsApp id: +7 days; fbcdn: `oe`). */
  sourceExpiresAt: Date | null
  declaredMime: string | null
  /** As Meta sent it: hex or base64. */
  declaredSha256: string | null
  declaredSize: number | null
  filename: string | null
  caption: string | null
  voice: boolean | null
  animated: boolean | null
  /** When the message was sent, from the webhook's timestamp. */
  sentAt: Date | null
  /** Set when the webhook itself reports a failure (WhatsApp `errors[]`): recorded as `failed`. */
  error: MediaError | null
  /** The storage policy in force when the media arrived; default `eager`. Set by intake. */
  policy?: StoragePolicy
  /** The W3C traceparent of the webhook span that brought it, when tracing is on; its capture span links to it. Set by intake. */
  traceParent?: string | null
}

export interface MediaError {
  /** One of our ErrorCodes (see src/errors.ts). */
  code: string
  message: string
  /** The vendor's code when there is one: Graph/WhatsApp error code, HTTP status, S3 error name. */
  vendorCode?: string | number | null
}

export interface MediaRecord extends NewMedia {
  /** Stable public id, `med_` + 26 base32 characters; never reused. */
  id: string
  status: MediaStatus
  webhookId: string | null
  /** Lowercase hex of the stored bytes. */
  sha256: string | null
  size: number | null
  /** The type sniffed from the bytes, if recognized. */
  sniffedMime: string | null
  /** The type we serve: sniffed if recognized, else declared. */
  mimeType: string | null
  blobKey: string | null
  attempts: number
  nextAttemptAt: Date | null
  leaseOwner: string | null
  leaseExpiresAt: Date | null
  receivedAt: Date
  storedAt: Date | null
  updatedAt: Date
  policy: StoragePolicy
  /** When the record became a tombstone (`deleted`); its bytes are gone from then on. */
  deletedAt: Date | null
}
