/**
 * The public JSON shape of a media record (snake_case). Source URLs are reduced to their host:
 * a Meta CDN URL is a bearer credential of sorts, and nobody needs it once the bytes are ours.
 */
import { explainFailure, type RetryAdvice } from '../media/failure-explanations.js'
import type { MediaRecord, ScanResult } from '../media/record.js'

/** The malware scan as clients see it; null until the bytes were held (see ScanResult). */
export interface ScanJson {
  status: string
  engine: string | null
  scanned_at: string | null
  signature: string | null
  released_at: string | null
}

export interface MediaJson {
  id: string
  platform: string
  account_id: string
  message_id: string
  attachment_index: number
  sender_id: string | null
  /** WhatsApp's business-scoped user id (BSUID); null elsewhere. */
  sender_user_id: string | null
  direction: string
  kind: string
  source_type: string
  status: string
  mime_type: string | null
  size: number | null
  sha256: string | null
  filename: string | null
  caption: string | null
  voice: boolean | null
  animated: boolean | null
  /** Instagram `ig_post`: the shared post's media id and title. */
  ig_post_media_id: string | null
  title: string | null
  declared: { mime_type: string | null; sha256: string | null; size: number | null }
  sniffed_mime_type: string | null
  source: { media_id: string | null; host: string | null; expires_at: string | null; refetched_at: string | null }
  /** When, as far as we know, Meta stops serving the source (the same instant as `source.expires_at`). */
  capture_deadline: string | null
  error: { code: string; message: string; vendor_code: string | number | null } | null
  /**
   * What the error means for the person on call (failure-explanations.ts): failed media, and
   * pending media with a last error; absent otherwise.
   */
  failure?: { code: string; summary: string; retry: RetryAdvice; fix: string }
  attempts: number
  next_attempt_at: string | null
  sent_at: string | null
  received_at: string
  stored_at: string | null
  updated_at: string
  /** The storage policy the media arrived under: eager, lazy or proxy. */
  policy: string
  deleted_at: string | null
  /** Pixels (images, stickers, video); null until derived. */
  width: number | null
  height: number | null
  /** Audio and video; null until derived. */
  duration_ms: number | null
  /** Voice notes and audio: 64 integers 0..100 for drawing bars. */
  waveform: number[] | null
  /** ThumbHash (base64) to paint before the thumbnail loads. */
  placeholder: string | null
  /** Where making thumbnails and previews stands; null when it was never queued. */
  derivatives: { status: string; error: string | null } | null
  scan: ScanJson | null
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null)

export function presentMedia(m: MediaRecord): MediaJson {
  const failure = explainFailure(m)
  return {
    id: m.id,
    platform: m.platform,
    account_id: m.accountId,
    message_id: m.messageId,
    attachment_index: m.attachmentIndex,
    sender_id: m.senderId,
    sender_user_id: m.senderUserId,
    direction: m.direction,
    kind: m.kind,
    source_type: m.sourceType,
    status: m.status,
    mime_type: m.mimeType ?? m.declaredMime,
    size: m.size,
    sha256: m.sha256,
    filename: m.filename,
    caption: m.caption,
    voice: m.voice,
    animated: m.animated,
    ig_post_media_id: m.igPostMediaId,
    title: m.title,
    declared: { mime_type: m.declaredMime, sha256: m.declaredSha256, size: m.declaredSize },
    sniffed_mime_type: m.sniffedMime,
    source: { media_id: m.sourceMediaId, host: hostOf(m.sourceUrl), expires_at: iso(m.sourceExpiresAt), refetched_at: iso(m.refetchedAt) },
    capture_deadline: iso(m.sourceExpiresAt),
    error: m.error ? { code: m.error.code, message: m.error.message, vendor_code: m.error.vendorCode ?? null } : null,
    ...(failure ? { failure: { code: failure.code, summary: failure.summary, retry: failure.retry, fix: failure.fix } } : {}),
    attempts: m.attempts,
    next_attempt_at: m.status === 'pending' ? iso(m.nextAttemptAt) : null,
    sent_at: iso(m.sentAt),
    received_at: m.receivedAt.toISOString(),
    stored_at: iso(m.storedAt),
    updated_at: m.updatedAt.toISOString(),
    policy: m.policy,
    deleted_at: iso(m.deletedAt),
    width: m.width,
    height: m.height,
    duration_ms: m.durationMs,
    waveform: m.waveform,
    placeholder: m.placeholder,
    derivatives: m.derivatives,
    scan: presentScan(m.scan),
  }
}

export function presentScan(scan: ScanResult | null): ScanJson | null {
  if (!scan) return null
  return { status: scan.status, engine: scan.engine, scanned_at: iso(scan.scannedAt), signature: scan.signature, released_at: iso(scan.releasedAt) }
}

function hostOf(url: string | null): string | null {
  if (!url) return null
  try {
    return new URL(url).host
  } catch {
    return null
  }
}
