/**
 * `GET /v1/stats`: the figures of the dashboard header, behind the same auth as the rest of /v1.
 * `{ counts: [{platform, status, count}], last_hour: {stored, failed, failed_by_code},
 *    capture_rate_per_min, oldest_pending_at, near_deadline: {count, earliest} }` (see src/metrics/queue-stats.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { MediaQueries } from '../catalog/catalog.js'
import { toMediagateError } from '../errors.js'
import type { QueueStats } from './queue-stats.js'
import { cachedQueueStats } from './stats-cache.js'
import { apiKeyHook } from '../serve/api-auth.js'

export interface StatsRouteOptions {
  catalog: MediaQueries
  apiKey: string | undefined
  /** Shared queue figures; by default computed from the catalog and kept 2 s. */
  queueStats?: () => Promise<QueueStats>
}

export interface StatsJson {
  counts: { platform: string; status: string; count: number }[]
  last_hour: { stored: number; failed: number; failed_by_code: { code: string; count: number }[] }
  capture_rate_per_min: number
  oldest_pending_at: string | null
  /** Pending media less than an hour from their capture deadline (or past it); the earliest pending deadline. */
  near_deadline: { count: number; earliest: string | null }
}

export async function statsRoutes(app: FastifyInstance, options: StatsRouteOptions): Promise<void> {
  const stats = options.queueStats ?? cachedQueueStats(options.catalog)
  app.addHook('onRequest', apiKeyHook(options.apiKey))
  app.get('/v1/stats', async (_request, reply): Promise<StatsJson> => {
    const s = await stats().catch((err: unknown) => {
      throw toMediagateError(err, 'catalog')
    })
    void reply.header('cache-control', 'no-store')
    return {
      counts: s.counts.map((c) => ({ platform: c.platform, status: c.status, count: c.count })),
      last_hour: { stored: s.lastHour.stored, failed: s.lastHour.failed, failed_by_code: s.lastHour.failedByCode },
      capture_rate_per_min: s.captureRatePerMin,
      oldest_pending_at: s.oldestPendingAt ? s.oldestPendingAt.toISOString() : null,
      near_deadline: { count: s.nearDeadline.count, earliest: s.nearDeadline.earliest ? s.nearDeadline.earliest.toISOString() : null },
    }
  })
}
