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
  /**
   * Who sent it: the phone number (WhatsApp `from`) when Meta sends one, else the BSUID; PSID
   * (Messenger) or IGSID (Instagram). Never null for a message that has a sender.
   */
  senderId: string | null
  /**
   * WhatsApp's business-scoped user id (BSUID, `CC.digits`): the message's own user id where
   * present, else its contact's `user_id`. Null on Messenger/Instagram and before April 2026.
   */
  senderUserId?: string | null
  direction: Direction
  kind: MediaKind
  /** The platform's own attachment type, e.g. `ig_reel`, `story_mention`, `file`, `voice`. */
  sourceType: string
  /** WhatsApp media id; null for Messenger/Instagram. */
  sourceMediaId: string | null
  /** WhatsApp's optional webhook `url`, or the Messenger/Instagram CDN URL. */
  sourceUrl: string | null
  /**
   * The capture deadline: when, as far as we know, Meta stops serving the source (WhatsApp id:
   * receipt + 7 days, or + 1 hour for a No-Storage number; Messenger/Instagram: the CDN URL's
   * `oe`). Null when Meta says nothing. Presented as `capture_deadline` (and `source.expires_at`).
   */
  sourceExpiresAt: Date | null
  declaredMime: string | null
  /** As Meta sent it: hex or base64. */
  declaredSha256: string | null
  declaredSize: number | null
  filename: string | null
  caption: string | null
  voice: boolean | null
  animated: boolean | null
  /** Instagram `ig_post`: the shared post's media id and title. */
  igPostMediaId?: string | null
  title?: string | null
  /** When the message was sent, from the webhook's timestamp. */
  sentAt: Date | null
  /** Set when the webhook itself reports a failure (WhatsApp `errors[]`): recorded as `failed`. */
  error: MediaError | null
  /** The storage policy in force when the media arrived; default `eager`. Set by intake. */
  policy?: StoragePolicy
  /** The W3C traceparent of the webhook span that brought it, when tracing is on; its capture span links to it. Set by intake. */
  traceParent?: string | null
}

/**
 * What the malware scan (MEDIAGATE_CLAMAV_URL) made of a media's bytes. `clean` and `infected`
 * are clamd's verdicts; `skipped`: not scanned (scanning off, the record stored before it was
 * on, or larger than clamd's limit under MEDIAGATE_CLAMAV_OVERSIZE=pass), or released by an
 * operator after review (`releasedAt`); `error`: clamd failed, the scan is retried.
 */
export const SCAN_STATUSES = ['clean', 'infected', 'skipped', 'error'] as const
export type ScanStatus = (typeof SCAN_STATUSES)[number]

export interface ScanResult {
  status: ScanStatus
  /** clamd's VERSION answer (engine and signature database), when it scanned. */
  engine: string | null
  scannedAt: Date | null
  /** The signature found (infected, or released after review). */
  signature: string | null
  /** When an operator released the media as a false positive (`mediagate scan --release`). */
  releasedAt: Date | null
}

export interface MediaError {
  /** One of our ErrorCodes (see src/errors.ts). */
  code: string
  message: string
  /** The vendor's code when there is one: Graph/WhatsApp error code, HTTP status, S3 error name. */
  vendorCode?: string | number | null
}

/**
 * Where deriving (thumbnails, previews, facts; src/derivatives) stands for a stored media:
 * `pending` (queued or running), `done`, `failed` (the media itself is fine; `error` says why),
 * `skipped` (nothing to derive, or a tool is missing: `error` says which).
 */
export const DERIVE_STATUSES = ['pending', 'done', 'failed', 'skipped'] as const
export type DeriveStatus = (typeof DERIVE_STATUSES)[number]

export interface DerivativesState {
  status: DeriveStatus
  error: string | null
}

/** What deriving learns about the bytes; null where it does not apply or is not known yet. */
export interface MediaFacts {
  /** Pixels (images, stickers, video). */
  width: number | null
  height: number | null
  /** Audio and video. */
  durationMs: number | null
  /** Voice notes: 64 integers 0..100, loudness over time, for drawing bars. */
  waveform: number[] | null
  /** A ThumbHash (base64) a client can paint before the thumbnail loads. */
  placeholder: string | null
}

export interface MediaRecord extends NewMedia, MediaFacts {
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
  senderUserId: string | null
  igPostMediaId: string | null
  title: string | null
  /** When the source was recovered through Graph's Message node after its CDN URL expired. */
  refetchedAt: Date | null
  /** Null until the media is stored and deriving was queued (or never, with derivation off). */
  derivatives: DerivativesState | null
  /**
   * The malware scan of the bytes; null until bytes were held. A `pending` record with a
   * `blobKey` has its verified bytes in the store and waits for its scan (clamd was down).
   */
  scan: ScanResult | null
}
