/**
 * Wires forwarding from the configuration: what intake needs to queue forwards, and (where the
 * worker runs) the forwarder that delivers them. Off when MEDIAGATE_FORWARD_URL is unset.
 */
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/options.js'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { ForwardRetryPolicy } from './forward-retry.js'
import { Forwarder } from './forwarder.js'
import { ForwardPoster } from './post-forward.js'

/** How long signed content links in forwards stay valid: the app may process a backlog late. */
export const FORWARD_LINK_SECONDS = 7 * 24 * 3600
const DELIVERY_TIMEOUT_MS = 15_000

export interface Forwarding {
  /** For intake: queue forwards, held for media in `stored` mode. */
  intake: { waitForMedia: boolean; onQueued: () => void }
  forwarder: Forwarder | undefined
  close(): Promise<void>
}

export interface ForwardingDeps {
  catalog: Catalog
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
  const forwarder = poster
    ? new Forwarder({
        catalog: deps.catalog,
        logger: deps.logger.child({ component: 'forwarder' }),
        deliver: (body, meta) => poster.post(body, meta),
        contentUrl: (id) => deps.contentUrl(id, new Date(Date.now() + FORWARD_LINK_SECONDS * 1000)),
        retry: { maxAttempts: config.forwardMaxAttempts, ...deps.retry },
        leaseMs: DELIVERY_TIMEOUT_MS * 4,
        ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
      })
    : undefined
  return {
    intake: { waitForMedia: config.forwardWhen === 'stored', onQueued: () => forwarder?.wake() },
    forwarder,
    async close() {
      await forwarder?.stop()
      await poster?.close()
    },
  }
}
