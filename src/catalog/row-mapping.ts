/**
 * Rows ⇄ records. Rows hold epoch milliseconds, 0/1 or real booleans, and numbers that pg may
 * hand back as strings (bigint) if a type parser is missing; records hold Dates, booleans and
 * numbers. Every conversion lives here so both engines read and write the same shape.
 */
import type { DeriveStatus, Direction, MediaError, MediaKind, MediaRecord, MediaStatus, NewMedia, Platform, ScanResult, ScanStatus, StoragePolicy } from '../media/record.js'
import { UNKNOWN_DEADLINE_MS } from './migrations/0007_meta_2026.js'
import type { MediaRow, MediaTable } from './schema.js'
import type { SqlDialect } from './sql-dialect.js'

export function toMillis(date: Date | null | undefined): number | null {
  return date ? date.getTime() : null
}

export function rowToMedia(r: MediaRow): MediaRecord {
  return {
    id: r.id,
    platform: r.platform as Platform,
    accountId: r.account_id,
    messageId: r.message_id,
    attachmentIndex: Number(r.attachment_index),
    senderId: r.sender_id,
    direction: r.direction as Direction,
    kind: r.kind as MediaKind,
    sourceType: r.source_type,
    sourceMediaId: r.source_media_id,
    sourceUrl: r.source_url,
    sourceExpiresAt: toDate(r.source_expires_at),
    declaredMime: r.declared_mime,
    declaredSha256: r.declared_sha256,
    declaredSize: toNumber(r.declared_size),
    filename: r.filename,
    caption: r.caption,
    voice: toBoolean(r.voice),
    animated: toBoolean(r.animated),
    sentAt: toDate(r.sent_at),
    error: toError(r),
    status: r.status as MediaStatus,
    webhookId: r.webhook_id,
    sha256: r.sha256,
    size: toNumber(r.size),
    sniffedMime: r.sniffed_mime,
    mimeType: r.mime_type,
    blobKey: r.blob_key,
    attempts: Number(r.attempts),
    nextAttemptAt: toDate(r.next_attempt_at),
    leaseOwner: r.lease_owner,
    leaseExpiresAt: toDate(r.lease_expires_at),
    receivedAt: toDate(r.received_at) ?? new Date(0),
    storedAt: toDate(r.stored_at),
    updatedAt: toDate(r.updated_at) ?? new Date(0),
    policy: (r.policy ?? 'eager') as StoragePolicy,
    deletedAt: toDate(r.deleted_at),
    senderUserId: r.sender_user_id ?? null,
    igPostMediaId: r.ig_post_media_id ?? null,
    title: r.title ?? null,
    refetchedAt: toDate(r.refetched_at),
    width: toNumber(r.width),
    height: toNumber(r.height),
    durationMs: toNumber(r.duration_ms),
    waveform: parseWaveform(r.waveform),
    placeholder: r.placeholder ?? null,
    derivatives: r.derive_status ? { status: r.derive_status as DeriveStatus, error: r.derive_error ?? null } : null,
    scan: toScan(r),
    // Only when set: most records have none (tracing off), and the record's shape stays as it was.
    ...(r.trace_parent ? { traceParent: r.trace_parent } : {}),
  }
}

function parseWaveform(value: string | null | undefined): number[] | null {
  if (!value) return null
  try {
    const parsed: unknown = JSON.parse(value)
    return Array.isArray(parsed) && parsed.every((n) => typeof n === 'number') ? (parsed as number[]) : null
  } catch {
    return null
  }
}

/**
 * A stored record without scan columns was stored while scanning was off (or lazily): `skipped`.
 * Other records without them never held bytes: null.
 */
function toScan(r: MediaRow): ScanResult | null {
  const status = r.scan_status ?? (r.status === 'stored' ? 'skipped' : null)
  if (status === null) return null
  return { status: status as ScanStatus, engine: r.scan_engine ?? null, scannedAt: toDate(r.scanned_at), signature: r.scan_signature ?? null, releasedAt: toDate(r.scan_released_at) }
}

export function scanColumns(scan: ScanResult | null): Pick<MediaTable, 'scan_status' | 'scan_engine' | 'scanned_at' | 'scan_signature' | 'scan_released_at'> {
  return {
    scan_status: scan?.status ?? null,
    scan_engine: scan?.engine ?? null,
    scanned_at: toMillis(scan?.scannedAt),
    scan_signature: scan?.signature ?? null,
    scan_released_at: toMillis(scan?.releasedAt),
  }
}

export interface NewMediaRowContext {
  id: string
  /** Null for media the user's app posted (outbound). */
  webhookId: string | null
  receivedAt: Date
  now: number
}

/**
 * A fresh record: `failed` with the webhook's own error; else `remote` (not a job) under the
 * lazy and proxy policies; else `pending` and due now.
 */
export function newMediaToRow(media: NewMedia, ctx: NewMediaRowContext, dialect: SqlDialect): MediaTable {
  const failed = media.error !== null
  const policy = media.policy ?? 'eager'
  const remote = !failed && policy !== 'eager'
  return {
    id: ctx.id,
    platform: media.platform,
    account_id: media.accountId,
    message_id: media.messageId,
    attachment_index: media.attachmentIndex,
    sender_id: media.senderId,
    direction: media.direction,
    kind: media.kind,
    source_type: media.sourceType,
    source_media_id: media.sourceMediaId,
    source_url: media.sourceUrl,
    source_expires_at: toMillis(media.sourceExpiresAt),
    declared_mime: media.declaredMime,
    declared_sha256: media.declaredSha256,
    declared_size: media.declaredSize,
    filename: media.filename,
    caption: media.caption,
    voice: dialect.bool(media.voice),
    animated: dialect.bool(media.animated),
    sent_at: toMillis(media.sentAt),
    status: failed ? 'failed' : remote ? 'remote' : 'pending',
    webhook_id: ctx.webhookId,
    sha256: null,
    size: null,
    sniffed_mime: null,
    mime_type: null,
    blob_key: null,
    attempts: 0,
    unfinished: 0,
    next_attempt_at: failed || remote ? null : ctx.now,
    lease_owner: null,
    lease_expires_at: null,
    ...errorColumns(media.error),
    received_at: ctx.receivedAt.getTime(),
    stored_at: null,
    updated_at: ctx.now,
    policy,
    deleted_at: null,
    blob_lease_key: null,
    sender_user_id: media.senderUserId ?? null,
    ig_post_media_id: media.igPostMediaId ?? null,
    title: media.title ?? null,
    refetched_at: null,
    deadline_order: deadlineOrder(media.sourceExpiresAt, ctx.receivedAt),
    width: null,
    height: null,
    duration_ms: null,
    waveform: null,
    placeholder: null,
    derive_status: null,
    derive_error: null,
    ...scanColumns(null),
    trace_parent: media.traceParent ?? null,
  }
}

/** The claim's sort key (migration 7): the capture deadline, else receipt + 7 days. */
export function deadlineOrder(deadline: Date | null, receivedAt: Date): number {
  return deadline ? deadline.getTime() : receivedAt.getTime() + UNKNOWN_DEADLINE_MS
}

export function errorColumns(error: MediaError | null): Pick<MediaTable, 'error_code' | 'error_message' | 'error_vendor_code'> {
  if (!error) return { error_code: null, error_message: null, error_vendor_code: null }
  const vendor = error.vendorCode
  return {
    error_code: error.code,
    error_message: error.message,
    error_vendor_code: vendor === undefined || vendor === null ? null : String(vendor),
  }
}

function toError(r: MediaRow): MediaError | null {
  if (r.error_code === null) return null
  const error: MediaError = { code: r.error_code, message: r.error_message ?? '' }
  const vendor = r.error_vendor_code
  if (vendor !== null) error.vendorCode = /^-?\d{1,15}$/.test(vendor) ? Number(vendor) : vendor
  return error
}

function toDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(Number(value))
}

function toNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value)
}

function toBoolean(value: unknown): boolean | null {
  return value === null || value === undefined ? null : value === true || Number(value) === 1
}
