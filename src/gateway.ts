/**
 * Composition: the only place that constructs the parts and wires them together. Everything
 * else receives its collaborators; so tests, the CLI and library users build the same gateway.
 *
 *   webhook → intake (verify, normalize, record) → catalog ← worker (claim, capture) → blobs
 *                                                     ↑                                  ↓
 *                                client → /v1 API ────┴──────────── content ─────────────┘
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { BlobStore } from './blobs/blob-store.js'
import { captureMedia } from './capture/capture-media.js'
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './capture/retry-policy.js'
import { CaptureWorker } from './capture/worker.js'
import type { Catalog } from './catalog/catalog.js'
import { openConfiguredBlobStore, openConfiguredCatalog } from './config/backends.js'
import type { Config } from './config/options.js'
import { dashboardRoutes } from './dashboard/dashboard-routes.js'
import { Fetcher } from './fetch/index.js'
import { Intake } from './intake/intake.js'
import { webhookRoutes } from './intake/webhook-routes.js'
import { createLogger, type Logger } from './logging/logger.js'
import { Metrics } from './metrics/metrics.js'
import { metricsRoutes } from './metrics/metrics-routes.js'
import { observeWebhooks } from './metrics/observe-webhooks.js'
import { cachedQueueStats } from './metrics/stats-cache.js'
import { GraphMediaClient } from './platforms/graph/index.js'
import { apiRoutes } from './serve/api-routes.js'
import { installErrorHandler } from './serve/error-handler.js'
import { healthRoutes } from './serve/health-routes.js'
import { statsRoutes } from './serve/stats-route.js'
import { USER_AGENT } from './version.js'
import { Eraser } from './retention/eraser.js'
import { retentionRules } from './retention/retention-rules.js'
import { RetentionSweeper } from './retention/sweeper.js'
import { eraseUnsent } from './retention/unsend.js'
import { erasureRoutes } from './serve/erasure-routes.js'
import { linkRoutes } from './serve/link-routes.js'
import { RemoteContent } from './serve/remote-content.js'
import { LinkSigner, linkKeys } from './serve/signed-links.js'
import { loadAccountTokens, whatsappTokenFor } from './config/config-file.js'
import type { ForwardRetryPolicy } from './forwarding/forward-retry.js'
import type { Forwarder } from './forwarding/forwarder.js'
import { setupForwarding } from './forwarding/forwarding.js'
import { forwardsRoutes } from './serve/forwards-routes.js'

export interface GatewayOptions {
  logger?: Logger
  /** Overrides for tests and benchmarks; users configure through Config. */
  retry?: Partial<RetryPolicy>
  pollMs?: number
  /** How often the retention sweep runs (worker role); default 15 minutes. */
  sweepIntervalMs?: number
  /** Forward backoff overrides for tests. */
  forwardRetry?: Partial<ForwardRetryPolicy>
}

export interface Gateway {
  readonly config: Readonly<Config>
  readonly app: FastifyInstance
  readonly catalog: Catalog
  readonly blobs: BlobStore
  readonly intake: Intake
  readonly worker: CaptureWorker | undefined
  readonly logger: Logger
  readonly metrics: Metrics
  /** Deletes media (DELETE, unsend, retention): tombstone first, then unshared blobs. */
  readonly eraser: Eraser
  /** The periodic retention sweep; present where the worker runs. */
  readonly sweeper: RetentionSweeper | undefined
  /** Serves media under the lazy and proxy storage policies (and captures lazy media). */
  readonly remote: RemoteContent
  /** Delivers the forwarding outbox (MEDIAGATE_FORWARD_URL); present where the worker runs. */
  readonly forwarder: Forwarder | undefined
  /** Base URL once listening, e.g. http://127.0.0.1:8080. */
  url: string | undefined
  /** Migrates, prepares the blob store, listens (unless role is worker) and starts the worker. */
  start(): Promise<void>
  close(): Promise<void>
}

export async function createGateway(config: Readonly<Config>, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel, undefined, config.logFormat)
  // mediagate.config.json is validated before anything is opened.
  const tokens = loadAccountTokens(config.configFile)
  const catalog = await openConfiguredCatalog(config, logger, { thread: true })
  const blobs = await openConfiguredBlobStore(config, logger)
  const fetcher = new Fetcher({
    allowedHosts: config.allowedHosts,
    userAgent: USER_AGENT,
    headersTimeoutMs: config.downloadTimeoutMs,
    bodyTimeoutMs: config.downloadTimeoutMs,
  })
  // One Graph client per token (each holds its token), made on first use.
  const graphs = new Map<string, GraphMediaClient>()
  const graphWith = (accessToken: string | undefined) => {
    if (!accessToken) return undefined
    let client = graphs.get(accessToken)
    if (!client) graphs.set(accessToken, (client = new GraphMediaClient({ graphUrl: config.graphUrl, version: config.graphVersion, accessToken, fetcher })))
    return client
  }
  const graph = graphWith(config.accessToken)
  const graphFor = (accountId: string) => graphWith(whatsappTokenFor(tokens, accountId, config.accessToken))
  const signer = new LinkSigner(linkKeys(config))
  const forwarding = setupForwarding(config, {
    catalog,
    logger,
    runsWorker: config.role !== 'api',
    contentUrl: (id, expiresAt) => {
      const base = config.publicUrl ?? gateway.url
      return signer.enabled && base ? `${base}${signer.path(id, expiresAt)}` : null
    },
    ...(options.forwardRetry ? { retry: options.forwardRetry } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  })

  const queueStats = cachedQueueStats(catalog)
  const metrics = new Metrics({ catalog, logger, queueStats })
  const runsWorker = config.role !== 'api'
  const worker = runsWorker
    ? new CaptureWorker({
        catalog,
        logger,
        concurrency: config.concurrency,
        leaseMs: config.leaseSeconds * 1000,
        retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.maxAttempts, ...options.retry },
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        capture: metrics.timeCapture((media, signal) => captureMedia(media, { blobs, fetcher, graph: graphFor(media.accountId), maxBytes: config.maxBytes }, signal)),
        onSettled: (media, settlement) => {
          metrics.captureSettled(media.platform, settlement)
          // The last media of a webhook settled: a forward waiting for it may be due.
          if (settlement.status !== 'retry') forwarding?.forwarder?.wake()
        },
      })
    : undefined
  const eraser = new Eraser({ catalog, blobs, logger })
  const sweeper = runsWorker
    ? new RetentionSweeper({ catalog, eraser, logger, rules: retentionRules(config), ...(options.sweepIntervalMs !== undefined ? { intervalMs: options.sweepIntervalMs, firstDelayMs: options.sweepIntervalMs } : {}) })
    : undefined
  const remote = new RemoteContent({
    catalog,
    blobs,
    logger,
    capture: { blobs, fetcher, graph, maxBytes: config.maxBytes },
    discardBlobs: async (keys) => void (await eraser.releaseBlobs(keys)),
  })
  const intake = new Intake({
    catalog,
    appSecrets: config.appSecrets,
    logger,
    onRecorded: () => worker?.wake(),
    ...(forwarding ? { forward: forwarding.intake } : {}),
    policies: { whatsapp: config.policyWhatsapp, messenger: config.policyMessenger, instagram: config.policyInstagram },
    ...(config.honorUnsend ? { onUnsends: async (unsends) => void (await eraseUnsent(unsends, { catalog, eraser, logger })) } : {}),
  })

  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }), return503OnClosing: true, forceCloseConnections: true, requestIdHeader: 'x-request-id' })
  // Clients and proxies can correlate: the id (theirs, or ours) comes back and is on every log line.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id)
    done()
  })
  installErrorHandler(app)
  observeWebhooks(app, metrics)
  await app.register(healthRoutes, { catalog, blobs })
  await app.register(metricsRoutes, { metrics, apiKey: config.apiKey, public: config.metricsPublic })
  if (config.role !== 'worker') {
    await app.register(webhookRoutes, { intake, verifyToken: config.verifyToken })
    await app.register(apiRoutes, { catalog, blobs, apiKey: config.apiKey, onRequeued: () => worker?.wake(), remote })
    await app.register(linkRoutes, { catalog, blobs, remote, apiKey: config.apiKey, signer, publicUrl: config.publicUrl })
    await app.register(forwardsRoutes, { catalog, apiKey: config.apiKey, onRetried: () => forwarding?.forwarder?.wake() })
    await app.register(erasureRoutes, { catalog, eraser, apiKey: config.apiKey })
    await app.register(statsRoutes, { catalog, apiKey: config.apiKey, queueStats })
    await app.register(dashboardRoutes, { apiKey: config.apiKey })
  }

  const gateway: Gateway = {
    config,
    app,
    catalog,
    blobs,
    intake,
    worker,
    logger,
    metrics,
    eraser,
    sweeper,
    remote,
    forwarder: forwarding?.forwarder,
    url: undefined,
    async start() {
      await catalog.migrate()
      await blobs.init()
      const address = await app.listen({ host: config.host, port: config.port })
      gateway.url = address
      worker?.start()
      forwarding?.forwarder?.start()
      sweeper?.start()
      logger.info({ url: gateway.url, role: config.role, catalog: catalog.dialect, blobs: blobs.kind }, 'mediagate is running')
    },
    async close() {
      remote.close()
      await app.close()
      await worker?.stop()
      await forwarding?.close()
      await sweeper?.stop()
      await fetcher.close()
      await blobs.close()
      await catalog.close()
    },
  }
  return gateway
}
