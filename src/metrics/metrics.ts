/**
 * mediagate's Prometheus metrics, on a registry of their own (so several gateways in one process,
 * as in tests, never share or collide). Counters move as the gateway calls the methods below;
 * the queue gauges are read from the catalog at scrape time, so they are true across processes.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { MediaQueries, Settlement } from '../catalog/catalog.js'
import type { CaptureFn } from '../capture/capture-job.js'
import type { Logger } from '../logging/logger.js'
import { MEDIA_STATUSES, type MediaRecord, type Platform, PLATFORMS, SCAN_STATUSES, type ScanStatus } from '../media/record.js'
import type { QueueStats } from './queue-stats.js'
import { cachedQueueStats } from './stats-cache.js'

export const WEBHOOK_RESULTS = ['ok', 'unauthorized', 'bad_request', 'too_large', 'unavailable'] as const
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number]

/**
 * Capture errors that are Meta's Graph API (lookup or WhatsApp download) answering or failing:
 * counted in `mediagate_graph_errors_total` for WhatsApp media. CDN downloads have no Graph.
 */
const GRAPH_ERROR_CODES = new Set(['auth', 'rate_limited', 'upstream', 'source_expired', 'source_rejected', 'network'])
const OUTCOMES = ['stored', 'retry', 'failed'] as const

export interface MetricsOptions {
  catalog: MediaQueries
  logger?: Logger
  /** Shared queue figures; by default computed from the catalog and kept 2 s. */
  queueStats?: () => Promise<QueueStats>
}

export class Metrics {
  readonly registry = new Registry()
  private readonly queueStats: () => Promise<QueueStats>
  private readonly webhooks: Counter<'result'>
  private readonly media: Gauge<'platform' | 'status'>
  private readonly downloadBytes: Counter<'platform'>
  private readonly downloadDuration: Histogram<'platform'>
  private readonly queueDepth: Gauge
  private readonly oldestPendingAge: Gauge
  private readonly graphErrors: Counter<'code'>
  private readonly blobStoreErrors: Counter
  private readonly captures: Counter<'platform' | 'outcome'>
  private readonly deadlinesMissed: Counter<'platform'>
  private readonly catalogUp: Gauge
  private readonly scans: Counter<'result'>
  private readonly scanDuration: Histogram<'result'>

  constructor(private readonly options: MetricsOptions) {
    this.queueStats = options.queueStats ?? cachedQueueStats(options.catalog)
    const registers = [this.registry]
    this.webhooks = new Counter({ name: 'mediagate_webhook_requests_total', help: 'Webhook POSTs by result', labelNames: ['result'], registers })
    this.media = new Gauge({ name: 'mediagate_media', help: 'Media records by platform and status (catalog, at scrape)', labelNames: ['platform', 'status'], registers })
    this.downloadBytes = new Counter({ name: 'mediagate_download_bytes_total', help: 'Bytes of media captured and stored', labelNames: ['platform'], registers })
    this.downloadDuration = new Histogram({
      name: 'mediagate_download_duration_seconds',
      help: 'Duration of capture attempts (lookup, download and store), successful or not',
      labelNames: ['platform'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    })
    this.queueDepth = new Gauge({ name: 'mediagate_queue_depth', help: 'Pending media records, due or waiting for a retry (catalog, at scrape)', registers })
    this.oldestPendingAge = new Gauge({ name: 'mediagate_oldest_pending_age_seconds', help: 'Age of the oldest pending media record; 0 when none (catalog, at scrape)', registers })
    this.graphErrors = new Counter({ name: 'mediagate_graph_errors_total', help: 'Failed WhatsApp capture attempts caused by the Graph API, by error code', labelNames: ['code'], registers })
    this.blobStoreErrors = new Counter({ name: 'mediagate_blob_store_errors_total', help: 'Capture attempts that failed in the blob store', registers })
    this.captures = new Counter({ name: 'mediagate_captures_total', help: 'Settled capture attempts by platform and outcome (stored, retry, failed)', labelNames: ['platform', 'outcome'], registers })
    this.deadlinesMissed = new Counter({
      name: 'mediagate_deadline_missed_total',
      help: 'Media whose capture ended (stored, or failed for good) only at or after their capture deadline: they were still pending when Meta stopped serving them',
      labelNames: ['platform'],
      registers,
    })
    this.catalogUp = new Gauge({ name: 'mediagate_catalog_up', help: '1 when this scrape could read the queue gauges from the catalog, else 0 (they are then left out or 0)', registers })
    this.scans = new Counter({ name: 'mediagate_scans_total', help: 'Malware scans by result (clean, infected, skipped: too large under MEDIAGATE_CLAMAV_OVERSIZE=pass, error: clamd down or failing)', labelNames: ['result'], registers })
    this.scanDuration = new Histogram({
      name: 'mediagate_scan_duration_seconds',
      help: 'Duration of malware scans (reading the blob and clamd scanning it), by result',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    for (const result of SCAN_STATUSES) this.scans.inc({ result }, 0)
    // Every series exists from the start, so rate() works from the first scrape.
    for (const result of WEBHOOK_RESULTS) this.webhooks.inc({ result }, 0)
    for (const platform of PLATFORMS) {
      this.downloadBytes.inc({ platform }, 0)
      this.deadlinesMissed.inc({ platform }, 0)
      for (const outcome of OUTCOMES) this.captures.inc({ platform, outcome }, 0)
    }
  }

  /** One webhook POST answered. */
  webhook(result: WebhookResult): void {
    this.webhooks.inc({ result })
  }

  /** One capture attempt settled in the catalog (the worker's `onSettled`). */
  captureSettled(platform: Platform, settlement: Settlement): void {
    this.captures.inc({ platform, outcome: settlement.status })
    if (settlement.status === 'stored') {
      this.downloadBytes.inc({ platform }, settlement.size)
      return
    }
    const code = settlement.error.code
    if (code === 'storage') this.blobStoreErrors.inc()
    if (platform === 'whatsapp' && GRAPH_ERROR_CODES.has(code)) this.graphErrors.inc({ code })
  }

  /**
   * A capture that ended (not a retry) at or after its deadline: the media was still pending when
   * Meta stopped serving it. It may still have been recovered (a re-fetch through Graph) or not.
   */
  captureEnded(media: Pick<MediaRecord, 'platform' | 'sourceExpiresAt'>, settlement: Settlement, now: Date = new Date()): void {
    if (settlement.status === 'retry' || media.sourceExpiresAt === null) return
    if (now.getTime() >= media.sourceExpiresAt.getTime()) this.deadlinesMissed.inc({ platform: media.platform })
  }

  /** One malware scan ended (the scanner's observer). */
  scanned(result: ScanStatus, seconds: number): void {
    this.scans.inc({ result })
    this.scanDuration.observe({ result }, seconds)
  }

  /** Wraps the worker's capture function to time every attempt. */
  timeCapture(capture: CaptureFn): CaptureFn {
    return async (media, signal) => {
      const end = this.downloadDuration.startTimer({ platform: media.platform })
      try {
        return await capture(media, signal)
      } finally {
        end()
      }
    }
  }

  /** The Prometheus text exposition, with the catalog gauges read now. */
  async render(): Promise<{ contentType: string; body: string }> {
    await this.refreshQueueGauges()
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }

  private async refreshQueueGauges(): Promise<void> {
    try {
      const stats = await this.queueStats()
      this.media.reset()
      for (const platform of PLATFORMS) for (const status of MEDIA_STATUSES) this.media.set({ platform, status }, 0)
      let pending = 0
      for (const c of stats.counts) {
        this.media.set({ platform: c.platform, status: c.status }, c.count)
        if (c.status === 'pending') pending += c.count
      }
      this.queueDepth.set(pending)
      this.oldestPendingAge.set(stats.oldestPendingAt ? Math.max(0, (Date.now() - stats.oldestPendingAt.getTime()) / 1000) : 0)
      this.catalogUp.set(1)
    } catch (err) {
      // The counters are still worth a scrape; the catalog gauges are left out rather than stale.
      this.media.reset()
      this.queueDepth.reset()
      this.oldestPendingAge.reset()
      this.catalogUp.set(0)
      this.options.logger?.warn({ err }, 'metrics: reading the catalog for the queue gauges failed')
    }
  }
}

/** The `result` label for a webhook POST answered with this HTTP status. */
export function webhookResultOf(statusCode: number): WebhookResult {
  if (statusCode >= 200 && statusCode < 300) return 'ok'
  if (statusCode === 401 || statusCode === 403) return 'unauthorized'
  if (statusCode === 413) return 'too_large'
  if (statusCode >= 400 && statusCode < 500) return 'bad_request'
  return 'unavailable'
}
