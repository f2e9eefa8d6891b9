/**
 * The retention sweep: deletes the media older than their platform's retention (as the Eraser
 * does: tombstone, then unshared blobs), finishes blob deletions an earlier failure left on
 * tombstones, and removes orphan blobs (orphans.ts). Runs in the worker process, shortly after
 * start and then every `intervalMs`, with or without a retention; `mediagate sweep` runs one pass
 * by hand. Several processes may sweep at once: every step is idempotent. Each pass is bounded,
 * so a huge backlog is worked off over several passes.
 *
 * The orphan scan lists the whole store, so it runs once per `orphansEveryMs` for the whole
 * deployment, not per process: a pass claims it in the catalog (Chores), which keeps when it last
 * started, so neither more workers nor their restarts add scans. A scan that fails or is stopped
 * gives the claim back, due again at the next pass of any process; one whose process dies holds
 * it for the interval (see chore-plans.ts).
 */
import { randomUUID } from 'node:crypto'
import type { Chores, Erasure } from '../catalog/catalog.js'
import { toMediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { PLATFORMS, type Platform } from '../media/record.js'
import type { Eraser } from './eraser.js'
import { ORPHAN_GRACE_MS } from './orphans.js'
import type { RetentionRules } from './retention-rules.js'

const DAY_MS = 24 * 60 * 60 * 1000

export interface SweeperOptions {
  catalog: Erasure & Chores
  eraser: Eraser
  logger: Logger
  rules: RetentionRules
  /** Default 15 minutes. */
  intervalMs?: number
  /** Wait before the first pass, so start-up is not slowed down; default 10 s. */
  firstDelayMs?: number
  /** Records erased per batch; default 500. */
  batchSize?: number
  /** Batches per platform per pass; default 200 (100 000 records). */
  maxBatches?: number
  /** Orphan blobs written less than this long ago are left alone. Default 1 hour (ORPHAN_GRACE_MS). */
  orphanGraceMs?: number
  /** How often the deployment looks for orphan blobs (one pass of one process claims each scan). Default 6 hours. */
  orphansEveryMs?: number
}

export interface PassOptions {
  /** Scan for orphans whenever the last scan started (a pass asked for by hand); default: only when one is due. */
  forceOrphanScan?: boolean
}

export interface SweepResult {
  /** Records turned into tombstones, by platform. */
  deleted: Partial<Record<Platform, number>>
  /** Blobs removed from the store for tombstones. */
  blobsDeleted: number
  /** Whether this pass looked for orphan blobs (it claimed the scan). */
  orphansScanned: boolean
  /** Orphan blobs removed from the store (0 when this pass did not look for them). */
  orphansDeleted: number
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<SweepResult> | undefined
  private stopped = false

  constructor(private readonly options: SweeperOptions) {}

  /** Schedules passes, also when no platform has a retention: unfinished deletions and orphans are collected all the same. */
  start(): void {
    this.schedule(this.options.firstDelayMs ?? 10_000)
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running?.catch(() => undefined)
  }

  /**
   * One pass now (joins a pass already running, whatever its options). `now` is what retention
   * measures ages against; orphans are always judged by the clock, since the grace period covers
   * puts happening now.
   */
  runOnce(now: Date = new Date(), options: PassOptions = {}): Promise<SweepResult> {
    this.running ??= this.pass(now, options).finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((err: unknown) => this.options.logger.error({ err: toMediagateError(err, 'catalog') }, 'retention sweep failed; trying again next time'))
        .finally(() => this.schedule(this.options.intervalMs ?? 15 * 60_000))
    }, ms)
    this.timer.unref()
  }

  private async pass(now: Date, options: PassOptions): Promise<SweepResult> {
    const { catalog, eraser, logger, rules } = this.options
    const batchSize = this.options.batchSize ?? 500
    const maxBatches = this.options.maxBatches ?? 200
    const result: SweepResult = { deleted: {}, blobsDeleted: 0, orphansScanned: false, orphansDeleted: 0 }
    for (const platform of PLATFORMS) {
      const days = rules[platform]
      if (days === undefined) continue
      const receivedBefore = new Date(now.getTime() - days * DAY_MS)
      let count = 0
      for (let batch = 0; batch < maxBatches && !this.stopped; batch++) {
        const ids = await catalog.listExpired({ platform, receivedBefore, limit: batchSize })
        if (ids.length > 0) count += (await eraser.erase(ids, now)).length
        if (ids.length < batchSize) break
      }
      result.deleted[platform] = count
      if (count > 0) logger.info({ platform, count, days }, 'retention: deleted expired media')
    }
    // Deletions a failing blob store left unfinished (keys still held by tombstones).
    for (let batch = 0; batch < maxBatches && !this.stopped; batch++) {
      const keys = await catalog.tombstoneBlobKeys(batchSize)
      if (keys.length === 0) break
      const { deleted, released, failed } = await eraser.releaseBlobs(keys)
      result.blobsDeleted += deleted
      // The store is failing, or what is left is in use by captures: next pass.
      if (failed.size > 0 || released.size === 0) break
    }
    if (!this.stopped) Object.assign(result, await this.scanOrphans(options.forceOrphanScan ?? false))
    return result
  }

  /** The orphan scan, if this pass claims it (or `force`s it) for the deployment. */
  private async scanOrphans(force: boolean): Promise<Pick<SweepResult, 'orphansScanned' | 'orphansDeleted'>> {
    const { catalog, eraser, logger } = this.options
    const runner = `sweep-${process.pid}-${randomUUID()}`
    const everyMs = force ? 0 : (this.options.orphansEveryMs ?? 6 * 60 * 60_000)
    if (!(await catalog.claimChore('orphan_scan', runner, everyMs))) return { orphansScanned: false, orphansDeleted: 0 }
    let finished = false
    try {
      const olderThan = new Date(Date.now() - (this.options.orphanGraceMs ?? ORPHAN_GRACE_MS))
      const orphans = await eraser.collectOrphans(olderThan, () => this.stopped)
      finished = !this.stopped
      if (orphans.found > 0) logger.warn({ found: orphans.found, deleted: orphans.deleted }, 'retention: removed blobs no record uses (orphans)')
      return { orphansScanned: true, orphansDeleted: orphans.deleted }
    } finally {
      // A scan that did not get through the store is due again at once, not an interval later.
      if (!finished) {
        await catalog
          .releaseChore('orphan_scan', runner)
          .catch((err: unknown) => logger.warn({ err: toMediagateError(err, 'catalog') }, 'retention: could not give the orphan scan back; it is due again after its interval'))
      }
    }
  }
}
