/**
 * The catalog contract: where media records (which are also the capture jobs) and the raw
 * webhook bodies live. Implemented on SQLite (embedded default) and PostgreSQL (scale-out);
 * `test/catalog/conformance.ts` runs the same suite against both.
 *
 * Every method is atomic. `recordWebhooks` commits a whole batch in one transaction so intake
 * can acknowledge only what is durable, and so that webhooks arriving together share one fsync.
 */
import type { DeriveStatus, MediaError, MediaFacts, MediaKind, MediaRecord, MediaStatus, NewMedia, Platform, ScanResult } from '../media/record.js'

export interface IncomingWebhook {
  /** `object` of the payload: whatsapp_business_account, page, instagram, or anything else. */
  object: string
  /** The raw request body exactly as received (kept for audit and replay). */
  body: Buffer
  receivedAt: Date
  media: NewMedia[]
  /** Queue a forward to the user's app in the same transaction (only when the body is new). */
  forward?: NewForward
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
  /**
   * How many attempts in a row may end without a settlement (the process crashed or hung, or
   * lost its lease). A claim that takes over an expired lease counts one more; a due job whose
   * count reaches the limit becomes `failed` with `crashed` in the same transaction instead of
   * being handed out again. Any settlement resets the count.
   */
  crashLimit: number
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
      /** Set when the bytes came through Graph's Message node after the CDN URL expired. */
      refetchedAt?: Date
      /** The kind the bytes showed, for a media Meta could not name (`unknown`). */
      kind?: MediaKind
      /** Task kinds queued for the media in the same transaction that makes it stored (tasks.ts). */
      enqueue?: string[]
      /**
       * Deriving was asked for but the deriver would make nothing of these bytes (derive-job.ts
       * `withStoredTasks`): the settlement records `derivatives: skipped` with this reason, and
       * `enqueue` has no derive task. A task queued, claimed and settled only to write the same
       * outcome cost three transactions per media.
       */
      deriveSkipped?: string
      /** The malware scan that let it through; omitted when scanning is off. */
      scan?: ScanResult
    }
  /**
   * Transient failure: back to `pending`, due again at `nextAttemptAt`. `refundAttempt` gives
   * back the attempt the claim counted, for a job handed back unfinished (a graceful shutdown):
   * an attempt that never ran to an end must not eat the budget. `kept`: the verified bytes are
   * in the blob store and only their scan is missing; the record holds their facts (and key,
   * which keeps the blob from deletion) so the next attempt scans them without downloading.
   */
  | { status: 'retry'; error: MediaError; nextAttemptAt: Date; refundAttempt?: boolean; kept?: KeptBytes; scan?: ScanResult }
  /**
   * `blobKey`: the blob the failed record holds from now on: where its infected bytes were
   * quarantined (kept as evidence, never served; erasing the record deletes them), or null to
   * let go of bytes it kept for a scan. Omitted: unchanged. `kept`: the facts of the bytes it
   * holds (infected ones), so a release after review can verify them.
   */
  | { status: 'failed'; error: MediaError; scan?: ScanResult; blobKey?: string | null; kept?: KeptBytes }

/** A pending record's verified bytes, already in the blob store, waiting for their scan. */
export type KeptBytes = Pick<Extract<Settlement, { status: 'stored' }>, 'sha256' | 'size' | 'blobKey' | 'sniffedMime' | 'mimeType'>

/** What a lazy record becomes `stored` with: the same facts as a stored settlement. */
export type StoredOutcome = Extract<Settlement, { status: 'stored' }>

/** Why a lazy record's capture ended `failed` after its bytes were stored (catalog `failRemote`). */
export interface RemoteFailure {
  error: MediaError
  scan: ScanResult
  /** The bytes' facts, kept so a release after review can verify them. */
  bytes: KeptBytes
  /** Where the record's bytes are now (quarantine), or null: it holds none. */
  blobKey: string | null
}

/** What a full proxy pass verified about a remote record's bytes (they are not stored). */
export interface RemoteFacts {
  sha256: string
  size: number
  sniffedMime: string | null
  mimeType: string | null
}

export interface LazyDueOptions {
  /** Lazy records whose source expires before this (and after now) are due. */
  expiresBefore: Date
  /** Only these records (still filtered by the rest). */
  ids?: string[]
  limit: number
  now?: Date
}

export interface ExpiredOptions {
  platform?: Platform
  /** Records received before this are expired. */
  receivedBefore: Date
  limit: number
}

export interface MediaFilter {
  platform?: Platform
  /** One status, or any of several (e.g. every status but `deleted`). */
  status?: MediaStatus | readonly MediaStatus[]
  kind?: MediaKind
  accountId?: string
  messageId?: string
  /** A phone number, BSUID, PSID or IGSID: matches `senderId` or `senderUserId`. */
  sender?: string
  errorCode?: string
  receivedAfter?: Date
  receivedBefore?: Date
  /** Changed (captured, failed, retried, deleted…) at or after this instant: `updatedAt`. */
  changedAfter?: Date
  /**
   * Search text: `senderId`, `senderUserId` or `messageId` starts with it (exact case), or
   * `caption` or `filename` contains it (case-insensitive).
   */
  q?: string
}

/** Which records an operator acts on: a filter, optionally narrowed to these ids (`[]` matches nothing). */
export type MediaSelection = MediaFilter & { ids?: string[] }

/** How many records match a filter, counted up to a cap. */
export interface FilterCount {
  /** Exact when not capped; `atMost + 1` when capped. */
  count: number
  /** More than `atMost` records match: counting stopped there. */
  capped: boolean
}

export interface ListOptions {
  /** 1..1000 */
  limit: number
  /** Opaque; from a previous page's `nextCursor`. */
  cursor?: string
  /**
   * A search (`q`) examines at most this many records per page, newest first (default
   * SEARCH_WINDOW in media-plans.ts): a rare term's page may then hold fewer than `limit`
   * records, even none, with a `nextCursor` to search older ones.
   */
  searchWindow?: number
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
  /**
   * Pending media whose capture deadline is less than an hour away (or already past): Meta
   * stops serving them soon, so an operator should look (doctor, dashboard). `earliest` is the
   * earliest deadline of any pending media.
   */
  nearDeadline: { count: number; earliest: Date | null }
}

/** Where a forward to the user's app stands. */
export type ForwardStatus = 'pending' | 'sent' | 'failed'

export interface NewForward {
  /** Forwards with the same key go out one at a time, in the order they were recorded. */
  conversationKey: string
  /** Hold the forward until no media of its webhook is `pending` (MEDIAGATE_FORWARD_WHEN=stored). */
  waitForMedia: boolean
}

/** One row of the forwarding outbox: a recorded webhook to post to the user's app. */
export interface ForwardRecord {
  /** `fwd_` + ULID; sorts by time of recording. */
  id: string
  webhookId: string
  conversationKey: string
  waitForMedia: boolean
  status: ForwardStatus
  attempts: number
  nextAttemptAt: Date | null
  leaseOwner: string | null
  leaseExpiresAt: Date | null
  /** Why the last attempt failed (HTTP status or network error); null once sent. */
  lastError: string | null
  createdAt: Date
  sentAt: Date | null
  updatedAt: Date
}

export type ForwardSettlement =
  | { status: 'sent' }
  | { status: 'retry'; error: string; nextAttemptAt: Date }
  | { status: 'failed'; error: string }

/**
 * Tables `exportRows`/`importRows` copy. Not `dashboard_sessions`: a sign-in belongs to the
 * deployment it was made on, and a logout deletes its row, which a copy could not carry over
 * (it would bring ended sessions back); people sign in again on the new deployment.
 */
export type CopyTable = 'webhooks' | 'media' | 'forwards' | 'derivatives'

/** What `importRows` would do with a row another catalog exported (`compareRows`). */
export type CopyVerdict =
  /** Not here: inserted. */
  | 'insert'
  /** Here in an older version (`updated_at`): replaced. */
  | 'update'
  /** Here in the same version. */
  | 'same'
  /** Here in a version that wins: changed here since, or a tombstone (an erasure is never undone). */
  | 'keep'
  /** Not here, and neither is the webhook it belongs to (written meanwhile at the source): copy that first. */
  | 'wait'

/** Whether a process is still writing to a catalog (`copyActivity`). */
export interface CopyActivity {
  /** The catalog's own time of this reading. */
  now: Date
  /** Media and forwards leased to a process (the lease has not expired at `now`). */
  leases: number
  /** When the last of those leases expires; null when there is none. */
  leasedUntil: Date | null
  /** The latest change: media and forwards `updated_at`, webhooks `received_at`; null when empty. */
  lastChangeAt: Date | null
  /** Rows of the copied tables together. */
  rows: number
}

/** A task to queue: `kind` of work on one media, due at `dueAt` (default now). */
export interface NewTask {
  kind: string
  mediaId: string
  dueAt?: Date
}

/** One row of the task queue. */
export interface TaskRecord {
  /** `tsk_` + ULID. */
  id: string
  kind: string
  mediaId: string
  /** When it is due; null once it failed for good (`lastError` says why). */
  dueAt: Date | null
  attempts: number
  leaseOwner: string | null
  leaseExpiresAt: Date | null
  lastError: string | null
  createdAt: Date
  updatedAt: Date
}

export type TaskSettlement =
  /** The work is done: the row goes (the outcome lives where the work put it). */
  | { status: 'done' }
  /** Due again at `dueAt`; `refundAttempt` for a run handed back unfinished (a shutdown). */
  | { status: 'retry'; error: string; dueAt: Date; refundAttempt?: boolean }
  /** Given up: kept with its error and no due time, until queued again. */
  | { status: 'failed'; error: string }

/** A task claim: `ClaimOptions` for one kind. */
export interface TaskClaimOptions extends ClaimOptions {
  kind: string
}

/** A derived file of a media: a thumbnail or a playable preview, stored as a content-addressed blob. */
export interface DerivativeRecord {
  mediaId: string
  /** `thumb96`, `thumb320`, `thumb640`, `preview`. */
  name: string
  blobKey: string
  mimeType: string
  /** Null while its blob is being written. */
  size: number | null
  updatedAt: Date
}

/** What `reserveDerivatives` answers per item (like BlobLeaseAnswer): `reserved`, `deleting` (retry once it ends), `gone` (the media is not stored). */
export type DerivativeReservation = 'reserved' | 'deleting' | 'gone'

/** A derivation's outcome for its media: facts and status, and the derivatives now complete. */
export interface DerivedOutcome {
  status: DeriveStatus
  error: string | null
  facts: Partial<MediaFacts>
  /** Derivatives whose blobs are now committed: `size` is set on their reserved rows. */
  ready: { name: string; blobKey: string; size: number }[]
}

/**
 * The catalog's roles. A consumer takes the role (or the intersection of roles) it uses, so
 * what it may do to the catalog reads from its signature; `Catalog` is all of them.
 */

/** The raw webhooks and what each one carried. Intake records; the forwarder reads back. */
export interface WebhookLog {
  /** Records a batch of webhooks and their media in one transaction. */
  recordWebhooks(batch: IncomingWebhook[]): Promise<RecordedWebhook[]>
  /** The raw body of a recorded webhook. */
  getWebhookBody(webhookId: string): Promise<Buffer | undefined>
  /** The media recorded with a webhook, in the order they were recorded. */
  webhookMedia(webhookId: string): Promise<MediaRecord[]>
}

/** The capture queue, as the worker sees it: lease due jobs, keep the leases, settle them. */
export interface MediaJobs {
  /**
   * Leases up to `limit` due jobs: `pending`, `next_attempt_at` passed, lease free or expired,
   * under the `crashLimit`. Increments `attempts`. Oldest due first. No two concurrent callers
   * get the same record. Due jobs at the head of the queue that reached the `crashLimit` become
   * `failed` (`crashed`) in the same transaction.
   */
  claim(options: ClaimOptions): Promise<MediaRecord[]>
  /** Extends the lease of records still owned by `owner`; returns the ids it renewed. */
  renewLeases(ids: string[], owner: string, leaseMs: number): Promise<string[]>
  /** Applies an outcome if `owner` still holds the lease; false if the lease was lost. */
  settle(id: string, owner: string, settlement: Settlement): Promise<boolean>
  /** `settle` for several jobs in one transaction (one fsync); one answer per item, in order. */
  settleMany(items: { id: string; owner: string; settlement: Settlement }[]): Promise<boolean[]>
  /**
   * `settleMany` and then `claim`, in one transaction: the engine refills the slots its
   * settlements free with the same commit (one round trip and one fsync instead of two). The
   * claim is `claim`'s in every respect, and does not depend on which settlements applied.
   */
  settleAndClaim(items: { id: string; owner: string; settlement: Settlement }[], claim: ClaimOptions): Promise<{ applied: boolean[]; claimed: MediaRecord[] }>
  /** When the next pending job is due (null if none), so a worker can sleep until then. */
  nextDueAt(): Promise<Date | null>
}

/** Reading media and the operators' corrections: the API, dashboard, CLI, metrics and verify. */
export interface MediaQueries {
  get(id: string): Promise<MediaRecord | undefined>
  /** Newest first (by id, which sorts by time of receipt). */
  list(filter: MediaSelection, options: ListOptions): Promise<Page<MediaRecord>>
  /** How many records match, reading at most `atMost + 1` of them (a confirmation's count). */
  count(filter: MediaFilter, options: { atMost: number }): Promise<FilterCount>
  counts(): Promise<StatusCount[]>
  /** Counts, the oldest pending media, and what was stored or failed since `since`. */
  summary(since: Date): Promise<CatalogSummary>
  /** Puts matching `failed` records back to `pending` with a fresh attempt budget. */
  requeue(filter: MediaSelection): Promise<number>
  /** Stored records pointing at this blob become `failed` with `error` (verify found it corrupt); returns how many. */
  failBlob(blobKey: string, error: MediaError): Promise<number>
}

/** Storage policies `lazy` and `proxy`: records wait as `remote`. Serving and lazy capture use it. */
export interface RemoteMedia {
  /** remote → stored once a lazy record's bytes are verified in the blob store; undefined if it is no longer remote. */
  storeRemote(id: string, stored: StoredOutcome): Promise<MediaRecord | undefined>
  /**
   * remote → failed when a lazy record's captured bytes failed their malware scan (infected, or
   * too large to scan): records the error and scan, the facts of the bytes, and `blobKey` (their
   * quarantine key, or null); the capture's blob lease ends. Undefined if it is no longer remote.
   */
  failRemote(id: string, failure: RemoteFailure): Promise<MediaRecord | undefined>
  /** Notes what a proxy pass verified (sha256, size, type) on a remote record; false if it is not remote. */
  learnRemote(id: string, facts: RemoteFacts): Promise<boolean>
  /** Lazy records still remote whose media id expires between now and `expiresBefore`, soonest first. */
  listLazyDue(options: LazyDueOptions): Promise<MediaRecord[]>
}

/**
 * Retention and erasure (the eraser, the retention sweep): tombstones (`deleted`) hold their
 * blob key until the blob is gone.
 */
export interface Erasure {
  /** Ids of records not yet deleted, received before the cutoff, oldest first. */
  listExpired(options: ExpiredOptions): Promise<string[]>
  /**
   * Turns the records into tombstones (`deleted`, `deletedAt`; caption, filename and source URL
   * dropped; blob key kept until `releaseBlobKeys`). Returns every listed record that exists,
   * including those deleted before. One transaction, which also forgets the cached handles at
   * Meta of bytes no live record holds any more and queues their WhatsApp uploads for deletion
   * at Meta (task `meta_delete`).
   */
  markDeleted(ids: string[], now?: Date): Promise<MediaRecord[]>
  /** Of `keys`, those still used by a record that is not deleted. */
  referencedBlobKeys(keys: string[]): Promise<string[]>
  /** Blob keys of these media's derivatives (thumbnails, previews): erased with the media's own blob. */
  derivedBlobKeys(mediaIds: string[]): Promise<string[]>
  /** Tombstones let go of these blob keys (the blobs are deleted or still used elsewhere). */
  releaseBlobKeys(keys: string[]): Promise<number>
  /** Blob keys tombstones still hold: deletions that have not finished (the blob store failed). */
  tombstoneBlobKeys(limit: number): Promise<string[]>
}

/** A capture about to commit a blob: the record it captures and the engine that holds its lease. */
export interface BlobLease {
  mediaId: string
  /** Pending records: the engine holding the job lease. Remote (lazy) records: the process capturing it. */
  owner: string
  blobKey: string
  /**
   * Remote (lazy) records only: how long the lease holds. Their capture runs outside the job
   * engine, with no job lease to end the blob lease, so it ends on its own once the capture must
   * be over (the download deadline), or earlier with the record's settlement or erasure. Several
   * processes may capture one remote record at once: they lease the same key.
   */
  holdMs?: number
}

/**
 * What `leaseBlobs` answers per lease: `leased`; `deleting` (a deletion of the key is in
 * progress: try again once it ends); `busy` (another transaction is writing the record, a lease
 * renewal say, or a remote record another capture leased with other bytes: try again now); `lost`
 * (the record is no longer pending under this lease, or no longer remote: deleted, or taken over
 * by another process; commit nothing).
 */
export type BlobLeaseAnswer = 'leased' | 'deleting' | 'busy' | 'lost'

/** What `claimBlobDeletions` made of each key (sorted, each key in one list). */
export interface BlobDeletionClaim {
  /** The claimant may delete these blobs now, and ends the claims with `endBlobDeletions`. */
  claimed: string[]
  /** A record that is not deleted uses the key. */
  referenced: string[]
  /** A capture in flight holds a lease on the key: it is about to be used. */
  leased: string[]
  /** Another claimant is deleting the blob now. */
  busy: string[]
}

/**
 * Safe deletion of shared blobs (retention/blob-guard.ts): a capture leases its blob key before
 * the store commits the bytes, a deletion claims the key before it deletes the blob, and neither
 * passes the other, in one process or several. A lease lasts while its record is pending under a
 * live job lease, or remote within the lease's `holdMs` (the settlement ends it); a claim until
 * `endBlobDeletions`, or its expiry.
 */
export interface BlobLeases {
  /** One answer per lease, in order; one transaction. */
  leaseBlobs(leases: BlobLease[]): Promise<BlobLeaseAnswer[]>
  /** Claims, for `claimMs`, the deletion of each key no live record uses and no capture has leased. */
  claimBlobDeletions(keys: string[], claimant: string, claimMs: number): Promise<BlobDeletionClaim>
  /**
   * Ends the claimant's claims on `release` and `abandon` keys. Tombstones let go of the `release`
   * keys (deleted, or used by a live record); `abandon` keys (deleting failed) stay on them.
   */
  endBlobDeletions(claimant: string, release: string[], abandon: string[]): Promise<void>
}

/** The forwarding outbox (MEDIAGATE_FORWARD_URL): the forwarder, the forwards API and CLI. */
export interface Outbox {
  /**
   * Leases up to `limit` due forwards, oldest first, incrementing `attempts`. A forward is due
   * when pending, past `next_attempt_at`, its lease free or expired, no earlier forward of its
   * conversation is still pending, and (if it waits for media) no media of its webhook is
   * pending, under the `crashLimit` (see ClaimOptions); due ones that reached it become `failed`
   * (`crashed: …`) in the same transaction.
   */
  claimForwards(options: ClaimOptions): Promise<ForwardRecord[]>
  /** Applies an outcome if `owner` still holds the lease; false if the lease was lost. */
  settleForward(id: string, owner: string, settlement: ForwardSettlement): Promise<boolean>
  getForward(id: string): Promise<ForwardRecord | undefined>
  /** Newest first. */
  listForwards(filter: { status?: ForwardStatus }, options: ListOptions): Promise<Page<ForwardRecord>>
  /** Puts `failed` forwards (these ids, or all when omitted) back to pending with a fresh budget; returns them. */
  retryForwards(ids?: string[]): Promise<ForwardRecord[]>
}

/**
 * The generic task queue: background work on one media, any number of kinds (deriving, and
 * later kinds), claimed by the JobEngine through a task job kind (jobs/task-jobs.ts). At most
 * one task per kind and media.
 */
export interface Tasks {
  /**
   * Queues tasks, one transaction. Idempotent per kind and media: a task already queued keeps
   * its due time; one that had failed is due again with a fresh budget. Returns how many rows it
   * inserted or revived.
   */
  enqueueTasks(tasks: NewTask[]): Promise<number>
  /** Leases due tasks of one kind as `claim` does media (lease, crash limit, oldest due first). */
  claimTasks(options: TaskClaimOptions): Promise<TaskRecord[]>
  /** Extends the leases still owned by `owner`; returns the ids renewed. */
  renewTasks(ids: string[], owner: string, leaseMs: number): Promise<string[]>
  /** Applies an outcome if `owner` still holds the lease; false if the lease was lost. */
  settleTask(id: string, owner: string, settlement: TaskSettlement): Promise<boolean>
  /** `settleTask` and then `claimTasks`, in one transaction (the engine refilling the slot the task freed). */
  settleTaskAndClaim(id: string, owner: string, settlement: TaskSettlement, claim: TaskClaimOptions): Promise<{ applied: boolean; claimed: TaskRecord[] }>
  /** When the next task of `kind` is due (null if none). */
  nextTaskDueAt(kind: string): Promise<Date | null>
  /** The task of a kind for a media, if queued or failed. */
  getTask(kind: string, mediaId: string): Promise<TaskRecord | undefined>
}

/**
 * Derived files and facts of media (src/derivatives). A derivation reserves its derivatives'
 * keys before committing their blobs (as a capture leases its key), so a deletion never takes a
 * blob about to be used; `erasure` then treats them like the media's own blob.
 */
export interface Derivatives {
  /** Rows of a media's derivatives, complete or being written. */
  derivativesOf(mediaId: string): Promise<DerivativeRecord[]>
  /**
   * Reserves each key for its media (a row with no size), one transaction; refused while a
   * deletion of the key is in progress (`deleting`) or when the media is not stored (`gone`).
   */
  reserveDerivatives(items: { mediaId: string; name: string; blobKey: string; mimeType: string }[]): Promise<DerivativeReservation[]>
  /**
   * Records a derivation: completes the `ready` derivatives and writes the facts and status on
   * the media, one transaction; false (nothing written) when the media is no longer stored.
   */
  recordDerived(mediaId: string, outcome: DerivedOutcome): Promise<boolean>
  /** Sets where deriving stands on stored media (queued: `pending`), without touching facts. */
  markDeriving(mediaIds: string[], status: DeriveStatus, error: string | null): Promise<number>
}

/** What a handle at Meta is cached by: the media's bytes, what was sent of them, where to. */
export interface HandleKey {
  /** sha256 of the media's own bytes. */
  sourceSha256: string
  /** `original`, or the conversion sent instead (`voice`, `jpeg`). */
  variant: string
  platform: Platform
  accountId: string
}

/** A handle Meta gave for an upload: a WhatsApp media id or a reusable attachment id. */
export interface MediaHandle extends HandleKey {
  /** The media the upload was made for. */
  mediaId: string
  handle: string
  /** The bytes Meta received. */
  sha256: string
  size: number
  mimeType: string
  expiresAt: Date
  createdAt: Date
  updatedAt: Date
}

export interface HandleClaimOptions extends HandleKey {
  mediaId: string
  /** Names the uploader; only it completes or abandons the upload. */
  owner: string
  /** How long the upload may take before another process takes it over. */
  leaseMs: number
  /** A ready handle is reused only while it stays valid this much longer. */
  marginMs: number
  now?: Date
}

/**
 * `ready`: reuse this handle. `claimed`: the caller uploads, then completes or abandons.
 * `busy`: another uploader holds a live lease; ask again shortly (it ends by `leaseExpiresAt`).
 */
export type HandleClaim = { status: 'ready'; handle: MediaHandle } | { status: 'claimed' } | { status: 'busy'; leaseExpiresAt: Date }

/** What a completed upload produced. */
export interface UploadedHandle {
  handle: string
  sha256: string
  size: number
  mimeType: string
  expiresAt: Date
}

/**
 * Outbound media (src/outbound): records of media the user's app posts, and the cache of
 * handles at Meta, where a row is also the lock of its one upload across processes.
 */
export interface OutboundMedia {
  /** Inserts a record for bytes the app is posting: `remote` (policy lazy, no source) until `storeRemote`. */
  recordOutbound(media: NewMedia, now?: Date): Promise<MediaRecord>
  /** A ready handle valid beyond the margin, or the right to upload it, or `busy`. One transaction. */
  claimHandle(options: HandleClaimOptions): Promise<HandleClaim>
  /** The claimant's upload succeeded: the row becomes ready; undefined if the claim was lost. */
  completeHandle(key: HandleKey, owner: string, uploaded: UploadedHandle): Promise<MediaHandle | undefined>
  /** The claimant's upload failed: its row goes, so nothing half-uploaded is cached. */
  abandonHandle(key: HandleKey, owner: string): Promise<void>
  /** Extends the claimant's lease by `leaseMs` from now while its upload runs; false if the claim was lost. */
  renewHandle(key: HandleKey, owner: string, leaseMs: number): Promise<boolean>
  /** Ready handles of these source bytes (one media's), oldest first. */
  handlesOf(sourceSha256s: string[]): Promise<MediaHandle[]>
  /**
   * A conversion for sending (a derivative reserved with `reserveDerivatives`) is committed:
   * its size is set, leaving the media's deriving status alone; false if the reservation is gone.
   */
  completeConversion(mediaId: string, name: string, blobKey: string, size: number): Promise<boolean>
  /** WhatsApp uploads of an erased media still to delete at Meta (queued by `markDeleted`). */
  metaDeletionsOf(mediaId: string): Promise<MetaDeletion[]>
  /** One of them is deleted at Meta (or was already gone there). */
  endMetaDeletion(id: string): Promise<void>
}

/** An upload of erased media to delete at Meta. */
export interface MetaDeletion {
  id: string
  mediaId: string
  platform: Platform
  accountId: string
  handle: string
}

/** Copying a whole catalog between engines (`mediagate migrate-data`). */
export interface CatalogCopy {
  /**
   * Raw rows of a table in id order after `afterId`; with `changedSince`, only the rows changed
   * since then (media and forwards by `updated_at`, webhooks by `received_at`).
   */
  exportRows(table: CopyTable, afterId: string | null, limit: number, changedSince?: Date): Promise<Record<string, unknown>[]>
  /** By id, what `importRows` would do here with these rows from `exportRows` of any engine (only `id`, `status`, `updated_at` and `webhook_id` are read). */
  compareRows(table: CopyTable, rows: Record<string, unknown>[]): Promise<Record<string, CopyVerdict>>
  /**
   * Writes rows from `exportRows` of any engine, in one transaction: new ids are inserted, and a
   * media or forward row here is replaced by a newer version (`updated_at`), never a tombstone
   * by a live row; a webhook never changes once recorded. Returns how many rows it wrote.
   */
  importRows(table: CopyTable, rows: Record<string, unknown>[]): Promise<number>
  /** Live leases and the latest change, so a copy can tell whether a process is still writing here. */
  copyActivity(): Promise<CopyActivity>
}

/** A dashboard sign-in as the catalog keeps it. */
export interface NewSession {
  /** A hash of the session's random id (the cookie carries the id, the catalog never does). */
  idHash: string
  createdAt: Date
  expiresAt: Date
}

/**
 * Dashboard sessions (src/serve/session-token.ts): a session is live while its row exists and
 * has not expired, so ending it here ends it in every process that shares the catalog.
 */
export interface Sessions {
  /** Records a sign-in, and deletes a bounded number of sessions expired by `createdAt` (upkeep). */
  createSession(session: NewSession): Promise<void>
  /** True while the session exists and expires after `now` (default: the current time). */
  sessionActive(idHash: string, now?: Date): Promise<boolean>
  /** Ends the session (a logout); false when there was none to end. */
  endSession(idHash: string): Promise<boolean>
}

/**
 * Malware scan verdicts that change stored media (`mediagate scan`, a capture that finds its
 * bytes infected and shared): quarantine, release after review, and telling the user's app.
 */
export interface ScanVerdicts {
  /**
   * Every `stored` record using `blobKey` becomes `failed` with `error` (code `infected`), holds
   * `quarantineKey` (where the blob was moved; null: gone) and records `scan`. Returns them.
   */
  quarantineBlob(blobKey: string, quarantineKey: string | null, error: MediaError, scan: ScanResult): Promise<MediaRecord[]>
  /** Stored records using `blobKey` record a scan that found nothing (a rescan); returns how many. */
  noteScan(blobKey: string, scan: ScanResult): Promise<number>
  /** A `failed`/`infected` record becomes `stored` at `blobKey` (its bytes put back), marked released; undefined if it is not infected. */
  releaseInfected(id: string, blobKey: string): Promise<MediaRecord | undefined>
  /** Queues the forwards of these webhooks again (new ids, fresh budget), but those still pending; returns how many. */
  resendForwards(webhookIds: string[]): Promise<number>
}

/** A periodic chore whose schedule every process on the catalog shares. */
export type ChoreName = 'orphan_scan'

/**
 * Deployment-wide schedules of periodic chores (chore-plans.ts): the time a chore last started is
 * kept here, on the catalog's clock, so it runs once per interval however many processes share the
 * catalog and however often they restart.
 */
export interface Chores {
  /**
   * Claims the chore for `runner` if it last started at least `everyMs` ago (or never, or more
   * than `everyMs` ahead: a clock since set back), stamping its start now (`now`, for tests: the
   * catalog's clock). Of processes racing for it one gets true. `everyMs` 0 claims unconditionally (a run asked for by hand). A runner that dies keeps
   * the claim until `everyMs` has passed since it started.
   */
  claimChore(name: ChoreName, runner: string, everyMs: number, now?: Date): Promise<boolean>
  /** Gives the claim back (the run did not finish): the chore is due at once. False when `runner` no longer holds it. */
  releaseChore(name: ChoreName, runner: string): Promise<boolean>
}

/** The connection itself: whoever opens the catalog, and the readiness probe. */
export interface CatalogLifecycle {
  /** `sqlite` or `postgres`. */
  readonly dialect: string
  /** Applies pending migrations; safe to call on every start and from several processes. */
  migrate(): Promise<void>
  /** Readiness probe: throws if the database does not answer. */
  ping(): Promise<void>
  /**
   * What the database server's own settings will cost this catalog, each as a sentence saying
   * what to change (PostgreSQL with autovacuum off); empty when nothing. Logged at start and
   * shown by `mediagate doctor`.
   */
  serverWarnings(): Promise<string[]>
  close(): Promise<void>
}

export interface Catalog extends CatalogLifecycle, WebhookLog, MediaJobs, MediaQueries, RemoteMedia, Erasure, BlobLeases, Outbox, CatalogCopy, Sessions, Tasks, Derivatives, ScanVerdicts, OutboundMedia, Chores {}
