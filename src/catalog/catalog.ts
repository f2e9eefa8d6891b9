/**
 * The catalog contract: where media records (which are also the capture jobs) and the raw
 * webhook bodies live. Implemented on SQLite (embedded default) and PostgreSQL (scale-out);
 * `test/catalog/conformance.ts` runs the same suite against both.
 *
 * Every method is atomic. `recordWebhooks` commits a whole batch in one transaction so intake
 * can acknowledge only what is durable, and so that webhooks arriving together share one fsync.
 */
import type { MediaError, MediaKind, MediaRecord, MediaStatus, NewMedia, Platform } from '../media/record.js'

export interface IncomingWebhook {
  /** `object` of the payload: whatsapp_business_account, page, instagram, or anything else. */
  object: string
  /** The raw request body exactly as received (kept for audit and replay). */
  body: Buffer
  receivedAt: Date
  media: NewMedia[]
}

export interface RecordedWebhook {
  webhookId: string
  /** False when a webhook with the same bytes was already recorded (a redelivery). */
  webhookCreated: boolean
  /** Records this call created, in the order of `media`. */
  created: MediaRecord[]
  /** Media of this webhook that already existed (same platform, message id and index). */
  duplicates: number
}

export interface ClaimOptions {
  /** Identifies the worker; only the lease owner can settle or renew. */
  owner: string
  limit: number
  leaseMs: number
  now?: Date
}

export type Settlement =
  | {
      status: 'stored'
      sha256: string
      size: number
      blobKey: string
      sniffedMime: string | null
      mimeType: string | null
      storedAt?: Date
    }
  /** Transient failure: back to `pending`, due again at `nextAttemptAt`. */
  | { status: 'retry'; error: MediaError; nextAttemptAt: Date }
  | { status: 'failed'; error: MediaError }

export interface MediaFilter {
  platform?: Platform
  status?: MediaStatus
  kind?: MediaKind
  accountId?: string
  messageId?: string
  errorCode?: string
  receivedAfter?: Date
  receivedBefore?: Date
}

export interface ListOptions {
  /** 1..1000 */
  limit: number
  /** Opaque; from a previous page's `nextCursor`. */
  cursor?: string
}

export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

export interface StatusCount {
  platform: Platform
  status: MediaStatus
  count: number
}

export interface CatalogSummary {
  counts: StatusCount[]
  /** When the oldest media still `pending` was received; null when nothing is pending. */
  oldestPendingAt: Date | null
  since: Date
  /** Media stored since `since`. */
  storedSince: number
  /** Media that failed since `since`, by error code. */
  failedSince: { code: string; count: number }[]
}

/** Tables `exportRows`/`importRows` copy. */
export type CopyTable = 'webhooks' | 'media'

export interface Catalog {
  /** `sqlite` or `postgres`. */
  readonly dialect: string
  /** Applies pending migrations; safe to call on every start and from several processes. */
  migrate(): Promise<void>
  /** Records a batch of webhooks and their media in one transaction. */
  recordWebhooks(batch: IncomingWebhook[]): Promise<RecordedWebhook[]>
  /**
   * Leases up to `limit` due jobs: `pending`, `next_attempt_at` passed, lease free or expired.
   * Increments `attempts`. Oldest due first. No two concurrent callers get the same record.
   */
  claim(options: ClaimOptions): Promise<MediaRecord[]>
  /** Extends the lease of records still owned by `owner`; returns the ids it renewed. */
  renewLeases(ids: string[], owner: string, leaseMs: number): Promise<string[]>
  /** Applies an outcome if `owner` still holds the lease; false if the lease was lost. */
  settle(id: string, owner: string, settlement: Settlement): Promise<boolean>
  /** When the next pending job is due (null if none), so a worker can sleep until then. */
  nextDueAt(): Promise<Date | null>
  get(id: string): Promise<MediaRecord | undefined>
  /** Newest first (by id, which sorts by time of receipt). */
  list(filter: MediaFilter, options: ListOptions): Promise<Page<MediaRecord>>
  /** Puts matching `failed` records back to `pending` with a fresh attempt budget. */
  requeue(filter: MediaFilter & { ids?: string[] }): Promise<number>
  counts(): Promise<StatusCount[]>
  /** Counts, the oldest pending media, and what was stored or failed since `since`. */
  summary(since: Date): Promise<CatalogSummary>
  /** The raw body of a recorded webhook. */
  getWebhookBody(webhookId: string): Promise<Buffer | undefined>
  /** Stored records pointing at this blob become `failed` with `error` (verify found it corrupt); returns how many. */
  failBlob(blobKey: string, error: MediaError): Promise<number>
  /** Raw rows of a table in id order after `afterId`, for copying a catalog (migrate-data). */
  exportRows(table: CopyTable, afterId: string | null, limit: number): Promise<Record<string, unknown>[]>
  /** Inserts rows from `exportRows` of any engine, in one transaction; existing ids are skipped. */
  importRows(table: CopyTable, rows: Record<string, unknown>[]): Promise<number>
  /** Readiness probe: throws if the database does not answer. */
  ping(): Promise<void>
  close(): Promise<void>
}
