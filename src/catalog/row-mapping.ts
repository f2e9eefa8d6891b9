/**
 * Rows ⇄ records. Rows hold epoch milliseconds, 0/1 or real booleans, and numbers that pg may
 * hand back as strings (bigint) if a type parser is missing; records hold Dates, booleans and
 * numbers. Every conversion lives here so both engines read and write the same shape.
 */
import type { MediaError, MediaKind, MediaRecord, MediaStatus, NewMedia, Platform, Direction, StoragePolicy } from '../media/record.js'
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
    // Only when set: most records have none (tracing off), and the record's shape stays as it was.
    ...(r.trace_parent ? { traceParent: r.trace_parent } : {}),
  }
}

export interface NewMediaRowContext {
  id: string
  webhookId: string
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
    trace_parent: media.traceParent ?? null,
  }
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
