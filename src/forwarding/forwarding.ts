/**
 * Wires forwarding from the configuration: what intake needs to queue forwards, and (where the
 * worker runs) the forwarder that delivers them. Off when MEDIAGATE_FORWARD_URL is unset.
 */
import type { Config } from '../config/options.js'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { ForwardRecord, ForwardSettlement } from '../catalog/catalog.js'
import { JobEngine } from '../jobs/job-engine.js'
import { DEFAULT_FORWARD_RETRY, type ForwardJobOptions, type ForwardRetryPolicy, forwardJobs } from './forward-job.js'
import { ForwardPoster } from './post-forward.js'

/** How long signed content links in forwards stay valid: the app may process a backlog late. */
export const FORWARD_LINK_SECONDS = 7 * 24 * 3600
const DELIVERY_TIMEOUT_MS = 15_000
/** Forwards posted at once, each of a different conversation. */
const FORWARD_CONCURRENCY = 8

export interface Forwarding {
  /** For intake: queue forwards, held for media in `stored` mode. */
  intake: { waitForMedia: boolean }
  /** Delivers the outbox; present where the worker runs. */
  forwarder: JobEngine<ForwardRecord, ForwardSettlement> | undefined
  close(): Promise<void>
}

export interface ForwardingDeps {
  catalog: ForwardJobOptions['catalog']
  logger: Logger
  runsWorker: boolean
  /** A signed link for a media's content, or null when links are not configured. */
  contentUrl: (mediaId: string, expiresAt: Date) => string | null
  retry?: Partial<ForwardRetryPolicy>
  pollMs?: number
}

export function setupForwarding(config: Readonly<Config>, deps: ForwardingDeps): Forwarding | undefined {
  if (!config.forwardUrl) return undefined
  if (!config.forwardSecret) {
    throw new MediagateError('invalid_config', 'MEDIAGATE_FORWARD_URL needs MEDIAGATE_FORWARD_SECRET (or META_APP_SECRET) to sign the forwards')
  }
  const poster = deps.runsWorker ? new ForwardPoster({ url: config.forwardUrl, secret: config.forwardSecret, timeoutMs: DELIVERY_TIMEOUT_MS }) : undefined
  const retry = { ...DEFAULT_FORWARD_RETRY, maxAttempts: config.forwardMaxAttempts, ...deps.retry }
  const forwarder = poster
    ? new JobEngine(
        forwardJobs({
          catalog: deps.catalog,
          deliver: (body, meta) => poster.post(body, meta),
          contentUrl: (id) => deps.contentUrl(id, new Date(Date.now() + FORWARD_LINK_SECONDS * 1000)),
          retry,
        }),
        {
          logger: deps.logger.child({ component: 'forwarder' }),
          concurrency: FORWARD_CONCURRENCY,
          // Longer than a delivery may take (it times out); leases are not renewed.
          leaseMs: DELIVERY_TIMEOUT_MS * 4,
          crashLimit: config.crashLimit,
          // A delivery in flight ends within its timeout: let it, rather than post it twice.
          onStop: 'finish',
          ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
          idlePollMaxMs: config.idlePollMaxMs,
        },
      )
    : undefined
  return {
    intake: { waitForMedia: config.forwardWhen === 'stored' },
    forwarder,
    async close() {
      await forwarder?.stop()
      await poster?.close()
    },
  }
}
