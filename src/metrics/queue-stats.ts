/**
 * Queue and activity figures for the dashboard header (`GET /v1/stats`) and the gauges of
 * `/metrics`, read from the catalog's `summary`, so they hold across processes and on both
 * catalog engines.
 */
import type { MediaQueries, StatusCount } from '../catalog/catalog.js'

export interface QueueStats {
  counts: StatusCount[]
  /** Media stored, and media that failed (by error code), in the last hour. */
  lastHour: { stored: number; failed: number; failedByCode: { code: string; count: number }[] }
  /** Stores per minute over the last five minutes. */
  captureRatePerMin: number
  /** When the longest-waiting pending media was received; null when nothing is pending. */
  oldestPendingAt: Date | null
  /** Pending media within an hour of their capture deadline (or past it), and the earliest deadline. */
  nearDeadline: { count: number; earliest: Date | null }
}

const HOUR_MS = 60 * 60 * 1000
const RATE_WINDOW_MIN = 5

export async function collectQueueStats(catalog: MediaQueries, now = new Date()): Promise<QueueStats> {
  const [hour, recent] = await Promise.all([
    catalog.summary(new Date(now.getTime() - HOUR_MS)),
    catalog.summary(new Date(now.getTime() - RATE_WINDOW_MIN * 60_000)),
  ])
  return {
    counts: hour.counts,
    lastHour: {
      stored: hour.storedSince,
      failed: hour.failedSince.reduce((n, f) => n + f.count, 0),
      failedByCode: hour.failedSince,
    },
    captureRatePerMin: Math.round((recent.storedSince / RATE_WINDOW_MIN) * 100) / 100,
    oldestPendingAt: hour.oldestPendingAt,
    nearDeadline: hour.nearDeadline,
  }
}
