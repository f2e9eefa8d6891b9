/**
 * The `Catalog` both engines share. An engine supplies how plans run (`run`), its claim query,
 * what serializes migrations, and how its driver errors read; everything else is here.
 */
import { type CatalogClock, localCatalogClock } from './catalog-clock.js'
import type { CompiledQuery } from 'kysely'
import type { BlobDeletionClaim, BlobLease, BlobLeaseAnswer, Catalog, CatalogSummary, ChoreName, ClaimOptions, CopyActivity, CopyTable, CopyVerdict, DerivativeRecord, DerivativeReservation, DerivedOutcome, ExpiredOptions, ForwardRecord, ForwardSettlement, ForwardStatus, HandleClaim, HandleClaimOptions, HandleKey, IncomingWebhook, LazyDueOptions, FilterCount, ListOptions, MediaFilter, MediaHandle, MediaSelection, MetaDeletion, NewSession, NewTask, Page, RecordedWebhook, RemoteFacts, RemoteFailure, Settlement, StatusCount, StoredOutcome, TaskClaimOptions, TaskRecord, TaskSettlement, UploadedHandle } from './catalog.js'
import { MediagateError } from '../errors.js'
import type { DeriveStatus, MediaError, MediaRecord, NewMedia, ScanResult } from '../media/record.js'
import {
  failBlobPlan,
  getQuery,
  listPlan,
  nextDueQuery,
  renewLeasesPlan,
  requeuePlan,
  settleManyPlan,
  settlePlan,
  webhookBodyQuery,
} from './media-plans.js'
import { derivedBlobKeysPlan, expiredQuery, markDeletedPlan, referencedBlobKeysPlan, releaseBlobKeysPlan, tombstoneBlobKeysPlan } from './deletion-plans.js'
import { type MigrationOutcome, migratePlan, schemaVersionPlan } from './migrate.js'
import { claimBlobDeletionsPlan, endBlobDeletionsPlan, leaseBlobsPlan } from './blob-plans.js'
import { LATEST_VERSION } from './migrations/index.js'
import { continued, type Plan, type PlanMode, single } from './plan.js'
import { failRemotePlan, lazyDuePlan, learnRemotePlan, storeRemotePlan } from './remote-plans.js'
import { summaryPlan } from './summary-plan.js'
import { filterCountPlan } from './filter-count-plan.js'
import { compactCountsPlan, countsPlan } from './counts-plans.js'
import { compareRowsPlan, copyActivityPlan, exportRowsPlan, importRowsPlan } from './copy-plans.js'
import { claimChorePlan, releaseChorePlan } from './chore-plans.js'
import { createSessionPlan, endSessionPlan, sessionActivePlan } from './session-plans.js'
import { claimForwardsPlan, getForwardPlan, listForwardsPlan, recordWithForwardsPlan, retryForwardsPlan, settleForwardPlan, webhookMediaPlan } from './forward-plans.js'
import { rowToMedia } from './row-mapping.js'
import { noteScanPlan, quarantineBlobPlan, releaseInfectedPlan, resendForwardsPlan } from './scan-plans.js'
import { claimJobsPlan } from './claim-queries.js'
import type { MediaRow } from './schema.js'
import type { DialectName, SqlDialect } from './sql-dialect.js'
import { claimTasksPlan, enqueueTasksPlan, getTaskPlan, nextTaskDuePlan, renewTasksPlan, settleTaskPlan } from './task-plans.js'
import { abandonHandlePlan, renewHandlePlan, claimHandlePlan, readyHandlePlan, completeConversionPlan, completeHandlePlan, endMetaDeletionPlan, metaDeletionsOfPlan, handlesOfPlan, recordOutboundPlan } from './handle-plans.js'
import { derivativesOfPlan, markDerivingPlan, recordDerivedPlan, reserveDerivativesPlan } from './derivative-plans.js'

export abstract class KyselyCatalog implements Catalog {
  abstract readonly dialect: DialectName
  protected abstract readonly sqlDialect: SqlDialect

  /** Runs a plan; in `transaction` mode all of it commits or none of it does. */
  protected abstract run<T>(plan: Plan<T>, mode: PlanMode): Promise<T>
  /** Leases due jobs (under the crash limit) and returns their rows after the update. */
  protected abstract claimQuery(options: ClaimOptions, now: number): CompiledQuery<MediaRow>
  /** Statements run first in the migration transaction (locks, schema creation). */
  protected abstract migrationPrologue(): CompiledQuery[]
  /** One row when the migrations table exists, none otherwise. */
  protected abstract migrationsTableQuery(): CompiledQuery
  protected abstract toError(err: unknown): MediagateError
  /** What leases, due times and timestamps are measured against (catalog-clock.ts). */
  protected clock: CatalogClock = localCatalogClock()
  abstract ping(): Promise<void>
  abstract serverWarnings(): Promise<string[]>
  abstract close(): Promise<void>

  migrate(): Promise<void> {
    return this.migrateTo(LATEST_VERSION).then(() => undefined)
  }

  /** Moves the schema to `version`, up or down; `down` is for tests and hand rollbacks. */
  migrateTo(version: number): Promise<MigrationOutcome> {
    return this.guard(() => this.run(migratePlan(this.sqlDialect, this.migrationPrologue(), version), 'transaction'))
  }

  /** The applied schema version (0 before the first migration). */
  schemaVersion(): Promise<number> {
    return this.guard(() => this.run(schemaVersionPlan(this.sqlDialect, this.migrationsTableQuery()), 'autocommit'))
  }

  recordWebhooks(batch: IncomingWebhook[]): Promise<RecordedWebhook[]> {
    if (batch.length === 0) return Promise.resolve([])
    return this.guard(async () => this.run(recordWithForwardsPlan(this.sqlDialect, batch, await this.clock.now()), 'transaction'))
  }

  async claim(options: ClaimOptions): Promise<MediaRecord[]> {
    checkClaim(options)
    if (options.limit === 0) return []
    const now = options.now?.getTime() ?? (await this.guard(() => this.clock.now()))
    return claimedRecords(await this.guard(() => this.run(claimJobsPlan(this.sqlDialect, this.claimQuery(options, now), options, now), 'transaction')))
  }

  renewLeases(ids: string[], owner: string, leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([])
    return this.guard(async () => this.run(renewLeasesPlan(this.sqlDialect, ids, owner, leaseMs, await this.clock.now()), 'transaction'))
  }

  settle(id: string, owner: string, settlement: Settlement): Promise<boolean> {
    // One statement unless the settlement queues tasks with it.
    const mode = settlement.status === 'stored' && (settlement.enqueue?.length ?? 0) > 0 ? 'transaction' : 'autocommit'
    return this.guard(async () => this.run(settlePlan(this.sqlDialect, id, owner, await this.onCatalogClock(settlement), await this.clock.now()), mode))
  }

  settleMany(items: { id: string; owner: string; settlement: Settlement }[]): Promise<boolean[]> {
    if (items.length === 0) return Promise.resolve([])
    return this.guard(async () => {
      const shifted = await this.settlementsOnCatalogClock(items)
      return this.run(this.settleGroupPlan(shifted, await this.clock.now()), 'transaction')
    })
  }

  async settleAndClaim(items: { id: string; owner: string; settlement: Settlement }[], claim: ClaimOptions): Promise<{ applied: boolean[]; claimed: MediaRecord[] }> {
    checkClaim(claim)
    if (claim.limit === 0) return { applied: await this.settleMany(items), claimed: [] }
    return this.guard(async () => {
      const shifted = await this.settlementsOnCatalogClock(items)
      const now = await this.clock.now()
      const claimNow = claim.now?.getTime() ?? now
      const dialect = this.sqlDialect
      const claimQuery = this.claimQuery(claim, claimNow)
      const settle = this.settleGroupPlan(shifted, now)
      // One transaction: the settlements' commit carries the claim that refills their slots.
      const { applied, rows } = await this.run(
        (function* () {
          const applied = yield* continued(settle)
          return { applied, rows: yield* claimJobsPlan(dialect, claimQuery, claim, claimNow) }
        })(),
        'transaction',
      )
      return { applied, claimed: claimedRecords(rows) }
    })
  }

  async nextDueAt(): Promise<Date | null> {
    const rows = await this.guard(() => this.run(single(nextDueQuery(this.sqlDialect)), 'autocommit'))
    const due = rows[0]?.due
    return due === null || due === undefined ? null : new Date(Number(due))
  }

  async get(id: string): Promise<MediaRecord | undefined> {
    const rows = await this.guard(() => this.run(single(getQuery(this.sqlDialect, id)), 'autocommit'))
    return rows[0] ? rowToMedia(rows[0]) : undefined
  }

  list(filter: MediaSelection, options: ListOptions): Promise<Page<MediaRecord>> {
    return this.guard(() => this.run(listPlan(this.sqlDialect, filter, options.limit, options.cursor, options.searchWindow), 'autocommit'))
  }

  count(filter: MediaFilter, options: { atMost: number }): Promise<FilterCount> {
    return this.guard(() => this.run(filterCountPlan(this.sqlDialect, filter, options.atMost), 'autocommit'))
  }

  requeue(filter: MediaSelection): Promise<number> {
    return this.guard(async () => this.run(requeuePlan(this.sqlDialect, filter, await this.clock.now()), 'transaction'))
  }

  counts(): Promise<StatusCount[]> {
    return this.guard(() => this.run(countsPlan(this.sqlDialect), 'autocommit'))
  }

  /** Folds the count deltas into the base counts now (writers do it on their own; for tests and tools). */
  compactCounts(): Promise<void> {
    return this.guard(() => this.run(compactCountsPlan(this.sqlDialect), 'transaction'))
  }

  summary(since: Date): Promise<CatalogSummary> {
    return this.guard(async () => this.run(summaryPlan(this.sqlDialect, since.getTime(), await this.clock.now()), 'autocommit'))
  }

  failBlob(blobKey: string, error: MediaError): Promise<number> {
    return this.guard(async () => this.run(failBlobPlan(this.sqlDialect, blobKey, error, await this.clock.now()), 'transaction'))
  }

  exportRows(table: CopyTable, afterId: string | null, limit: number, changedSince?: Date): Promise<Record<string, unknown>[]> {
    return this.guard(() => this.run(exportRowsPlan(this.sqlDialect, table, afterId, limit, changedSince?.getTime() ?? null), 'autocommit'))
  }

  compareRows(table: CopyTable, rows: Record<string, unknown>[]): Promise<Record<string, CopyVerdict>> {
    if (rows.length === 0) return Promise.resolve({})
    return this.guard(() => this.run(compareRowsPlan(this.sqlDialect, table, rows), 'autocommit'))
  }

  copyActivity(): Promise<CopyActivity> {
    return this.guard(async () => this.run(copyActivityPlan(this.sqlDialect, await this.clock.now()), 'autocommit'))
  }

  importRows(table: CopyTable, rows: Record<string, unknown>[]): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0)
    return this.guard(() => this.run(importRowsPlan(this.sqlDialect, table, rows), 'transaction'))
  }

  storeRemote(id: string, stored: StoredOutcome): Promise<MediaRecord | undefined> {
    return this.guard(async () => this.run(storeRemotePlan(this.sqlDialect, id, stored, await this.clock.now()), 'transaction'))
  }

  failRemote(id: string, failure: RemoteFailure): Promise<MediaRecord | undefined> {
    return this.guard(async () => this.run(failRemotePlan(this.sqlDialect, id, failure, await this.clock.now()), 'transaction'))
  }

  learnRemote(id: string, facts: RemoteFacts): Promise<boolean> {
    return this.guard(async () => this.run(learnRemotePlan(this.sqlDialect, id, facts, await this.clock.now()), 'autocommit'))
  }

  async listLazyDue(options: LazyDueOptions): Promise<MediaRecord[]> {
    checkBatchLimit(options.limit)
    const now = options.now?.getTime() ?? (await this.guard(() => this.clock.now()))
    return this.guard(() => this.run(lazyDuePlan(this.sqlDialect, options, now), 'autocommit'))
  }

  async listExpired(options: ExpiredOptions): Promise<string[]> {
    checkBatchLimit(options.limit)
    const rows = await this.guard(() => this.run(single(expiredQuery(this.sqlDialect, options)), 'autocommit'))
    return rows.map((row) => String(row.id))
  }

  markDeleted(ids: string[], now?: Date): Promise<MediaRecord[]> {
    if (ids.length === 0) return Promise.resolve([])
    return this.guard(async () => this.run(markDeletedPlan(this.sqlDialect, ids, now?.getTime() ?? (await this.clock.now())), 'transaction'))
  }

  referencedBlobKeys(keys: string[]): Promise<string[]> {
    if (keys.length === 0) return Promise.resolve([])
    return this.guard(() => this.run(referencedBlobKeysPlan(this.sqlDialect, keys), 'autocommit'))
  }

  releaseBlobKeys(keys: string[]): Promise<number> {
    if (keys.length === 0) return Promise.resolve(0)
    return this.guard(() => this.run(releaseBlobKeysPlan(this.sqlDialect, keys), 'transaction'))
  }

  async tombstoneBlobKeys(limit: number): Promise<string[]> {
    checkBatchLimit(limit)
    return this.guard(() => this.run(tombstoneBlobKeysPlan(this.sqlDialect, limit), 'autocommit'))
  }

  leaseBlobs(leases: BlobLease[]): Promise<BlobLeaseAnswer[]> {
    if (leases.length === 0) return Promise.resolve([])
    return this.guard(async () => this.run(this.leaseBlobsGroupPlan(leases, await this.clock.now()), 'transaction'))
  }

  claimBlobDeletions(keys: string[], claimant: string, claimMs: number): Promise<BlobDeletionClaim> {
    if (keys.length === 0) return Promise.resolve({ claimed: [], referenced: [], leased: [], busy: [] })
    if (!(claimMs > 0)) throw new MediagateError('internal', `claimMs must be positive, got ${claimMs}`)
    return this.guard(async () => this.run(claimBlobDeletionsPlan(this.sqlDialect, keys, claimant, await this.clock.now(), claimMs), 'transaction'))
  }

  endBlobDeletions(claimant: string, release: string[], abandon: string[]): Promise<void> {
    if (release.length === 0 && abandon.length === 0) return Promise.resolve()
    return this.guard(() => this.run(endBlobDeletionsPlan(this.sqlDialect, claimant, release, abandon), 'transaction'))
  }

  async getWebhookBody(webhookId: string): Promise<Buffer | undefined> {
    const rows = await this.guard(() => this.run(single(webhookBodyQuery(this.sqlDialect, webhookId)), 'autocommit'))
    const body = rows[0]?.body
    return body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body as Uint8Array)
  }

  async claimForwards(options: ClaimOptions): Promise<ForwardRecord[]> {
    if (!Number.isInteger(options.limit) || options.limit < 0) throw new MediagateError('internal', `claim limit must be a whole number, got ${options.limit}`)
    checkCrashLimit(options.crashLimit)
    if (options.limit === 0) return []
    const now = options.now?.getTime() ?? (await this.guard(() => this.clock.now()))
    return this.guard(() => this.run(claimForwardsPlan(this.sqlDialect, options, now), 'transaction'))
  }

  settleForward(id: string, owner: string, settlement: ForwardSettlement): Promise<boolean> {
    return this.guard(async () => {
      const onClock = settlement.status === 'retry' ? { ...settlement, nextAttemptAt: new Date(await this.clock.fromLocal(settlement.nextAttemptAt.getTime())) } : settlement
      return this.run(settleForwardPlan(this.sqlDialect, id, owner, onClock, await this.clock.now()), 'autocommit')
    })
  }

  getForward(id: string): Promise<ForwardRecord | undefined> {
    return this.guard(() => this.run(getForwardPlan(this.sqlDialect, id), 'autocommit'))
  }

  listForwards(filter: { status?: ForwardStatus }, options: ListOptions): Promise<Page<ForwardRecord>> {
    return this.guard(() => this.run(listForwardsPlan(this.sqlDialect, filter, options), 'autocommit'))
  }

  retryForwards(ids?: string[]): Promise<ForwardRecord[]> {
    return this.guard(async () => this.run(retryForwardsPlan(this.sqlDialect, ids, await this.clock.now()), 'transaction'))
  }

  webhookMedia(webhookId: string): Promise<MediaRecord[]> {
    return this.guard(() => this.run(webhookMediaPlan(this.sqlDialect, webhookId), 'autocommit'))
  }

  createSession(session: NewSession): Promise<void> {
    return this.guard(() => this.run(createSessionPlan(this.sqlDialect, session), 'transaction'))
  }

  sessionActive(idHash: string, now: Date = new Date()): Promise<boolean> {
    return this.guard(() => this.run(sessionActivePlan(this.sqlDialect, idHash, now.getTime()), 'autocommit'))
  }

  endSession(idHash: string): Promise<boolean> {
    return this.guard(() => this.run(endSessionPlan(this.sqlDialect, idHash), 'autocommit'))
  }

  claimChore(name: ChoreName, runner: string, everyMs: number, now?: Date): Promise<boolean> {
    if (!Number.isSafeInteger(everyMs) || everyMs < 0) return Promise.reject(new MediagateError('internal', `chore everyMs must be a whole number of at least 0, got ${everyMs}`))
    return this.guard(async () => this.run(claimChorePlan(this.sqlDialect, name, runner, everyMs, now?.getTime() ?? (await this.clock.now())), 'autocommit'))
  }

  releaseChore(name: ChoreName, runner: string): Promise<boolean> {
    return this.guard(() => this.run(releaseChorePlan(this.sqlDialect, name, runner), 'autocommit'))
  }

  enqueueTasks(tasks: NewTask[]): Promise<number> {
    if (tasks.length === 0) return Promise.resolve(0)
    return this.guard(async () => {
      const onClock = await Promise.all(tasks.map(async (t) => (t.dueAt ? { ...t, dueAt: new Date(await this.clock.fromLocal(t.dueAt.getTime())) } : t)))
      return this.run(enqueueTasksPlan(this.sqlDialect, onClock, await this.clock.now()), 'transaction')
    })
  }

  async claimTasks(options: TaskClaimOptions): Promise<TaskRecord[]> {
    checkClaim(options)
    if (options.limit === 0) return []
    const now = options.now?.getTime() ?? (await this.guard(() => this.clock.now()))
    return this.guard(() => this.run(claimTasksPlan(this.sqlDialect, options, now), 'transaction'))
  }

  renewTasks(ids: string[], owner: string, leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([])
    return this.guard(async () => this.run(renewTasksPlan(this.sqlDialect, ids, owner, leaseMs, await this.clock.now()), 'transaction'))
  }

  settleTask(id: string, owner: string, settlement: TaskSettlement): Promise<boolean> {
    return this.guard(async () => {
      const onClock = await this.taskOnCatalogClock(settlement)
      return this.run(settleTaskPlan(this.sqlDialect, id, owner, onClock, await this.clock.now()), 'autocommit')
    })
  }

  async settleTaskAndClaim(id: string, owner: string, settlement: TaskSettlement, claim: TaskClaimOptions): Promise<{ applied: boolean; claimed: TaskRecord[] }> {
    checkClaim(claim)
    if (claim.limit === 0) return { applied: await this.settleTask(id, owner, settlement), claimed: [] }
    return this.guard(async () => {
      const onClock = await this.taskOnCatalogClock(settlement)
      const now = await this.clock.now()
      const claimNow = claim.now?.getTime() ?? now
      const dialect = this.sqlDialect
      return this.run(
        (function* () {
          const applied = yield* settleTaskPlan(dialect, id, owner, onClock, now)
          return { applied, claimed: yield* claimTasksPlan(dialect, claim, claimNow) }
        })(),
        'transaction',
      )
    })
  }

  nextTaskDueAt(kind: string): Promise<Date | null> {
    return this.guard(() => this.run(nextTaskDuePlan(this.sqlDialect, kind), 'autocommit'))
  }

  getTask(kind: string, mediaId: string): Promise<TaskRecord | undefined> {
    return this.guard(() => this.run(getTaskPlan(this.sqlDialect, kind, mediaId), 'autocommit'))
  }

  derivativesOf(mediaId: string): Promise<DerivativeRecord[]> {
    return this.guard(() => this.run(derivativesOfPlan(this.sqlDialect, mediaId), 'autocommit'))
  }

  reserveDerivatives(items: { mediaId: string; name: string; blobKey: string; mimeType: string }[]): Promise<DerivativeReservation[]> {
    if (items.length === 0) return Promise.resolve([])
    return this.guard(async () => this.run(reserveDerivativesPlan(this.sqlDialect, items, await this.clock.now()), 'transaction'))
  }

  recordDerived(mediaId: string, outcome: DerivedOutcome): Promise<boolean> {
    return this.guard(async () => this.run(recordDerivedPlan(this.sqlDialect, mediaId, outcome, await this.clock.now()), 'transaction'))
  }

  markDeriving(mediaIds: string[], status: DeriveStatus, error: string | null): Promise<number> {
    if (mediaIds.length === 0) return Promise.resolve(0)
    return this.guard(async () => this.run(markDerivingPlan(this.sqlDialect, mediaIds, status, error, await this.clock.now()), 'transaction'))
  }

  derivedBlobKeys(mediaIds: string[]): Promise<string[]> {
    if (mediaIds.length === 0) return Promise.resolve([])
    return this.guard(() => this.run(derivedBlobKeysPlan(this.sqlDialect, mediaIds), 'autocommit'))
  }

  quarantineBlob(blobKey: string, quarantineKey: string | null, error: MediaError, scan: ScanResult): Promise<MediaRecord[]> {
    return this.guard(async () => this.run(quarantineBlobPlan(this.sqlDialect, blobKey, quarantineKey, error, scan, await this.clock.now()), 'transaction'))
  }

  noteScan(blobKey: string, scan: ScanResult): Promise<number> {
    return this.guard(() => this.run(noteScanPlan(this.sqlDialect, blobKey, scan), 'transaction'))
  }

  releaseInfected(id: string, blobKey: string): Promise<MediaRecord | undefined> {
    return this.guard(async () => this.run(releaseInfectedPlan(this.sqlDialect, id, blobKey, await this.clock.now()), 'transaction'))
  }

  resendForwards(webhookIds: string[]): Promise<number> {
    if (webhookIds.length === 0) return Promise.resolve(0)
    return this.guard(async () => this.run(resendForwardsPlan(this.sqlDialect, webhookIds, await this.clock.now()), 'transaction'))
  }

  recordOutbound(media: NewMedia, now?: Date): Promise<MediaRecord> {
    return this.guard(async () => this.run(recordOutboundPlan(this.sqlDialect, media, now?.getTime() ?? (await this.clock.now())), 'transaction'))
  }

  claimHandle(options: HandleClaimOptions): Promise<HandleClaim> {
    if (!(options.leaseMs > 0)) throw new MediagateError('internal', `handle leaseMs must be positive, got ${options.leaseMs}`)
    return this.guard(async () => {
      const now = options.now?.getTime() ?? (await this.clock.now())
      // The common case, a cached handle, is a read: no write transaction (and fsync) per request.
      const ready = await this.run(readyHandlePlan(this.sqlDialect, options, now), 'autocommit')
      if (ready) return { status: 'ready', handle: ready }
      return this.run(claimHandlePlan(this.sqlDialect, options, now), 'transaction')
    })
  }

  completeHandle(key: HandleKey, owner: string, uploaded: UploadedHandle): Promise<MediaHandle | undefined> {
    return this.guard(async () => this.run(completeHandlePlan(this.sqlDialect, key, owner, uploaded, await this.clock.now()), 'autocommit'))
  }

  abandonHandle(key: HandleKey, owner: string): Promise<void> {
    return this.guard(() => this.run(abandonHandlePlan(this.sqlDialect, key, owner), 'autocommit'))
  }

  renewHandle(key: HandleKey, owner: string, leaseMs: number): Promise<boolean> {
    return this.guard(async () => this.run(renewHandlePlan(this.sqlDialect, key, owner, leaseMs, await this.clock.now()), 'autocommit'))
  }

  completeConversion(mediaId: string, name: string, blobKey: string, size: number): Promise<boolean> {
    return this.guard(async () => this.run(completeConversionPlan(this.sqlDialect, mediaId, name, blobKey, size, await this.clock.now()), 'autocommit'))
  }

  metaDeletionsOf(mediaId: string): Promise<MetaDeletion[]> {
    return this.guard(() => this.run(metaDeletionsOfPlan(this.sqlDialect, mediaId), 'autocommit'))
  }

  endMetaDeletion(id: string): Promise<void> {
    return this.guard(() => this.run(endMetaDeletionPlan(this.sqlDialect, id), 'autocommit'))
  }

  handlesOf(sourceSha256s: string[]): Promise<MediaHandle[]> {
    if (sourceSha256s.length === 0) return Promise.resolve([])
    return this.guard(() => this.run(handlesOfPlan(this.sqlDialect, sourceSha256s), 'autocommit'))
  }

  /** Settles a group of settlements (settleMany, settleAndClaim); an engine may do it in fewer statements. */
  protected settleGroupPlan(items: { id: string; owner: string; settlement: Settlement }[], now: number): Plan<boolean[]> {
    return settleManyPlan(this.sqlDialect, items, now)
  }

  /** Leases a group of blob keys (leaseBlobs); an engine may do it in fewer statements. */
  protected leaseBlobsGroupPlan(leases: BlobLease[], now: number): Plan<BlobLeaseAnswer[]> {
    return leaseBlobsPlan(this.sqlDialect, leases, now)
  }

  /** A retry's due time was computed on the caller's clock: these move it onto the catalog's. */
  private async taskOnCatalogClock(settlement: TaskSettlement): Promise<TaskSettlement> {
    if (settlement.status !== 'retry') return settlement
    return { ...settlement, dueAt: new Date(await this.clock.fromLocal(settlement.dueAt.getTime())) }
  }

  private settlementsOnCatalogClock<T extends { settlement: Settlement }>(items: T[]): Promise<T[]> {
    return Promise.all(items.map(async (item) => ({ ...item, settlement: await this.onCatalogClock(item.settlement) })))
  }

  private async onCatalogClock(settlement: Settlement): Promise<Settlement> {
    if (settlement.status !== 'retry') return settlement
    return { ...settlement, nextAttemptAt: new Date(await this.clock.fromLocal(settlement.nextAttemptAt.getTime())) }
  }

  protected async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw this.toError(err)
    }
  }
}

/** RETURNING has no order: "oldest due first" restored for the caller. */
function claimedRecords(rows: MediaRow[]): MediaRecord[] {
  return rows.map(rowToMedia).sort((a, b) => (a.nextAttemptAt?.getTime() ?? 0) - (b.nextAttemptAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1))
}

function checkClaim(options: ClaimOptions): void {
  if (!Number.isInteger(options.limit) || options.limit < 0) throw new MediagateError('internal', `claim limit must be a whole number, got ${options.limit}`)
  if (!(options.leaseMs > 0)) throw new MediagateError('internal', `claim leaseMs must be positive, got ${options.leaseMs}`)
  checkCrashLimit(options.crashLimit)
}

function checkCrashLimit(crashLimit: number): void {
  if (!Number.isInteger(crashLimit) || crashLimit < 1) throw new MediagateError('internal', `claim crashLimit must be a whole number of at least 1, got ${crashLimit}`)
}

function checkBatchLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new MediagateError('internal', `batch limit must be a whole number from 1 to 10000, got ${limit}`)
}
