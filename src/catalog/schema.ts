/**
 * The catalog's tables as kysely sees them. Times are integer epoch milliseconds on both
 * engines (`bigint`), so the same queries, parameters and row mapping serve SQLite and
 * PostgreSQL and a JavaScript `Date` round-trips exactly. Booleans are `boolean` on PostgreSQL
 * and 0/1 on SQLite (see `ValueCodec`).
 */
import type { Generated, Selectable } from 'kysely'

/** A column that is 0/1 on SQLite and a boolean on PostgreSQL. */
export type DbBoolean = number | boolean

export interface WebhooksTable {
  id: string
  /** Lowercase hex sha256 of `body`; UNIQUE, so a redelivered body is stored once. */
  body_sha256: string
  object: string
  received_at: number
  size: number
  body: Buffer
}

export interface MediaTable {
  id: string
  platform: string
  account_id: string
  message_id: string
  attachment_index: number
  sender_id: string | null
  direction: string
  kind: string
  source_type: string
  source_media_id: string | null
  source_url: string | null
  source_expires_at: number | null
  declared_mime: string | null
  declared_sha256: string | null
  declared_size: number | null
  filename: string | null
  caption: string | null
  voice: DbBoolean | null
  animated: DbBoolean | null
  sent_at: number | null
  status: string
  webhook_id: string | null
  sha256: string | null
  size: number | null
  sniffed_mime: string | null
  mime_type: string | null
  blob_key: string | null
  attempts: number
  /** Attempts in a row that ended without a settlement (crash, hang, lost lease); see migration 6. */
  unfinished: number
  next_attempt_at: number | null
  lease_owner: string | null
  lease_expires_at: number | null
  error_code: string | null
  error_message: string | null
  /** Graph codes and HTTP statuses come back as numbers, anything else as text. */
  error_vendor_code: string | null
  received_at: number
  stored_at: number | null
  updated_at: number
  /** eager, lazy or proxy (migration 2). */
  policy: string
  /** Set when the record became a tombstone (migration 2). */
  deleted_at: number | null
  /** The blob key a capture of this pending record is about to commit (migration 5; blob-plans.ts). */
  blob_lease_key: string | null
  /** The WhatsApp BSUID (`contacts[].user_id`) of the sender (migration 7). */
  sender_user_id: string | null
  /** Instagram `ig_post`: the post's media id and title (migration 7). */
  ig_post_media_id: string | null
  title: string | null
  /** When an expired CDN URL was replaced through Graph's Message node (migration 7). */
  refetched_at: number | null
  /** The claim's sort key: the capture deadline, or receipt + 7 days when unknown (migration 7). */
  deadline_order: number
  /** Media facts and where deriving stands (migration 8; src/derivatives). */
  width: number | null
  height: number | null
  duration_ms: number | null
  /** JSON array of 0..100 integers (voice notes). */
  waveform: string | null
  /** ThumbHash, base64. */
  placeholder: string | null
  derive_status: string | null
  derive_error: string | null
  /** clean, infected, skipped or error; null until the bytes were held (migration 9). */
  scan_status: string | null
  /** clamd's VERSION answer when it scanned. */
  scan_engine: string | null
  scanned_at: number | null
  /** The signature clamd found. */
  scan_signature: string | null
  /** When an operator released the media as a false positive. */
  scan_released_at: number | null
  /** The webhook span's W3C traceparent when tracing was on (migration 10; src/tracing). */
  trace_parent: string | null
}

/** The forwarding outbox (migration 3): one row per webhook to hand on to the user's app. */
export interface ForwardsTable {
  id: string
  webhook_id: string
  /** Forwards of one conversation go out in id order, one at a time. */
  conversation_key: string
  /** Held until no media of the webhook is pending (MEDIAGATE_FORWARD_WHEN=stored). */
  wait_for_media: DbBoolean
  status: string
  attempts: number
  /** Attempts in a row that ended without a settlement; see migration 6. */
  unfinished: number
  next_attempt_at: number | null
  lease_owner: string | null
  lease_expires_at: number | null
  last_error: string | null
  created_at: number
  sent_at: number | null
  updated_at: number
}

/** Dashboard sessions (migration 4): one row per sign-in; deleted at logout. */
export interface DashboardSessionsTable {
  /** sha256 (hex) of the session id the cookie carries; never the id itself. */
  id: string
  created_at: number
  expires_at: number
}

/** Blob deletions in progress (migration 5): a claim on a key, held while its blob is deleted. */
export interface BlobDeletionsTable {
  blob_key: string
  /** Who deletes it: only they end the claim. */
  owner: string
  /** A claimant that died is taken over after this. */
  expires_at: number
}

/** The generic task queue (migration 8): background work on one media, one row per kind and media. */
export interface TasksTable {
  id: string
  kind: string
  media_id: string
  /** Set while the task is to be run; null once it failed for good. */
  due_at: number | null
  attempts: number
  /** Attempts in a row that ended without a settlement; see migration 6. */
  unfinished: number
  lease_owner: string | null
  lease_expires_at: number | null
  last_error: string | null
  created_at: number
  updated_at: number
}

/** Derived blobs of a media (migration 8): thumbnails, previews. */
export interface DerivativesTable {
  /** `<media id>.<name>`. */
  id: string
  media_id: string
  name: string
  blob_key: string
  mime_type: string
  /** Null while the blob is being written (the row reserves the key first). */
  size: number | null
  created_at: number
  updated_at: number
}

/** Handles at Meta for stored media (migration 11; src/outbound): one row per bytes, variant, platform and account. */
export interface MediaHandlesTable {
  id: string
  /** The sha256 of the media's own bytes. */
  source_sha256: string
  /** `original`, or the conversion sent instead (`voice`, `jpeg`). */
  variant: string
  platform: string
  account_id: string
  /** The media the upload was made for (its erasure deletes the upload at Meta). */
  media_id: string
  /** `uploading` (leased) or `ready`. */
  status: string
  handle: string | null
  /** What Meta received. */
  sha256: string | null
  size: number | null
  mime_type: string | null
  expires_at: number | null
  lease_owner: string | null
  lease_expires_at: number | null
  created_at: number
  updated_at: number
}

/** WhatsApp uploads of erased media still to delete at Meta (migration 11; task `meta_delete`). */
export interface HandleDeletionsTable {
  id: string
  media_id: string
  platform: string
  account_id: string
  handle: string
  created_at: number
}

/** Base media counts by platform and status (migration 12); the deltas are folded in now and then. */
export interface MediaCountsTable {
  platform: string
  status: string
  count: number | string
}

/** +1/−1 per record that arrived, left or changed status since the last fold (migration 12; written by triggers only). */
export interface MediaCountDeltasTable {
  id: Generated<number>
  platform: string
  status: string
  delta: number
}

export interface MigrationsTable {
  version: number
  name: string
  applied_at: number
}

/** When each periodic chore last started (migration 14; chore-plans.ts). */
export interface ChoreRunsTable {
  /** A ChoreName. */
  name: string
  /** On the catalog's clock. A run that gives its claim back deletes the row: due at once. */
  started_at: number
  /** Who started it: only they give the claim back. */
  runner: string
}

export interface Database {
  webhooks: WebhooksTable
  media: MediaTable
  forwards: ForwardsTable
  dashboard_sessions: DashboardSessionsTable
  blob_deletions: BlobDeletionsTable
  tasks: TasksTable
  derivatives: DerivativesTable
  media_handles: MediaHandlesTable
  handle_deletions: HandleDeletionsTable
  media_counts: MediaCountsTable
  media_count_deltas: MediaCountDeltasTable
  chore_runs: ChoreRunsTable
  mediagate_migrations: MigrationsTable
}

/** Rows as selected (`selectAll`, `returningAll`): what the plans read back. */
export type WebhookRow = Selectable<WebhooksTable>
export type MediaRow = Selectable<MediaTable>
export type ForwardRow = Selectable<ForwardsTable>
export type TaskRow = Selectable<TasksTable>
export type DerivativeRow = Selectable<DerivativesTable>
export type MediaHandleRow = Selectable<MediaHandlesTable>
