/**
 * Composition: the only place that constructs the parts and wires them together. Everything
 * else receives its collaborators; so tests, the CLI and library users build the same gateway.
 *
 *   webhook → intake (verify, normalize, record) → catalog ← worker (claim, capture) → blobs
 *                                                     ↑                                  ↓
 *                                client → /v1 API ────┴──────────── content ─────────────┘
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { BlobStore } from './blobs/blob-store.js'
import { openBlobStore } from './blobs/open-blob-store.js'
import { captureMedia } from './capture/capture-media.js'
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './capture/retry-policy.js'
import { CaptureWorker } from './capture/worker.js'
import type { Catalog } from './catalog/catalog.js'
import { openCatalog } from './catalog/open-catalog.js'
import type { Config } from './config/options.js'
import { Fetcher } from './fetch/index.js'
import { Intake } from './intake/intake.js'
import { webhookRoutes } from './intake/webhook-routes.js'
import { createLogger, type Logger } from './logging/logger.js'
import { GraphMediaClient } from './platforms/graph/index.js'
import { apiRoutes } from './serve/api-routes.js'
import { installErrorHandler } from './serve/error-handler.js'
import { healthRoutes } from './serve/health-routes.js'
import { USER_AGENT } from './version.js'

export interface GatewayOptions {
  logger?: Logger
  /** Overrides for tests and benchmarks; users configure through Config. */
  retry?: Partial<RetryPolicy>
  pollMs?: number
}

export interface Gateway {
  readonly config: Readonly<Config>
  readonly app: FastifyInstance
  readonly catalog: Catalog
  readonly blobs: BlobStore
  readonly intake: Intake
  readonly worker: CaptureWorker | undefined
  readonly logger: Logger
  /** Base URL once listening, e.g. http://127.0.0.1:8080. */
  url: string | undefined
  /** Migrates, prepares the blob store, listens (unless role is worker) and starts the worker. */
  start(): Promise<void>
  close(): Promise<void>
}

export async function createGateway(config: Readonly<Config>, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel)
  const catalog = await openCatalog(config.databaseUrl, { logger })
  const blobs = await openBlobStore(config.storageUrl, { logger })
  const fetcher = new Fetcher({ allowedHosts: config.allowedHosts, userAgent: USER_AGENT })
  const graph = config.accessToken
    ? new GraphMediaClient({ graphUrl: config.graphUrl, version: config.graphVersion, accessToken: config.accessToken, fetcher })
    : undefined

  const runsWorker = config.role !== 'api'
  const worker = runsWorker
    ? new CaptureWorker({
        catalog,
        logger,
        concurrency: config.concurrency,
        leaseMs: config.leaseSeconds * 1000,
        retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.maxAttempts, ...options.retry },
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        capture: (media, signal) => captureMedia(media, { blobs, fetcher, graph, maxBytes: config.maxBytes }, signal),
      })
    : undefined
  const intake = new Intake({ catalog, appSecrets: config.appSecrets, logger, onRecorded: () => worker?.wake() })

  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, disableRequestLogging: true, return503OnClosing: true, forceCloseConnections: true })
  installErrorHandler(app)
  await app.register(healthRoutes, { catalog, blobs })
  if (config.role !== 'worker') {
    await app.register(webhookRoutes, { intake, verifyToken: config.verifyToken })
    await app.register(apiRoutes, { catalog, blobs, apiKey: config.apiKey, onRequeued: () => worker?.wake() })
  }

  const gateway: Gateway = {
    config,
    app,
    catalog,
    blobs,
    intake,
    worker,
    logger,
    url: undefined,
    async start() {
      await catalog.migrate()
      await blobs.init()
      const address = await app.listen({ host: config.host, port: config.port })
      gateway.url = address
      worker?.start()
      logger.info({ url: gateway.url, role: config.role, catalog: catalog.dialect, blobs: blobs.kind }, 'mediagate is running')
    },
    async close() {
      await app.close()
      await worker?.stop()
      await fetcher.close()
      await blobs.close()
      await catalog.close()
    },
  }
  return gateway
}
