/**
 * Shares one computation of the queue stats between callers that arrive close together (several
 * dashboards polling, a Prometheus scrape), so each caller does not read the catalog again.
 */
import type { MediaQueries } from '../catalog/catalog.js'
import { collectQueueStats, type QueueStats } from './queue-stats.js'

export function cachedQueueStats(catalog: MediaQueries, maxAgeMs = 2000): () => Promise<QueueStats> {
  let last: { at: number; value: Promise<QueueStats> } | undefined
  return () => {
    const now = Date.now()
    if (last && now - last.at < maxAgeMs) return last.value
    const value = collectQueueStats(catalog, new Date(now))
    last = { at: now, value }
    // A failure is not cached: the next caller asks the catalog again.
    value.catch(() => {
      if (last?.value === value) last = undefined
    })
    return value
  }
}
