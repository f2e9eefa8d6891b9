/**
 * The gateway: the parts (parts.ts) wired into an HTTP server and the background jobs.
 *
 *   webhook → intake (verify, normalize, record) → catalog ← jobs (claim, capture) → transfer → blobs
 *                                                     ↑                                            ↓
 *                                client → /v1 API ────┴───────────────── content ──────────────────┘
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { BlobStore } from './blobs/blob-store.js'
import { type CaptureFn, captureJobs } from './capture/capture-job.js'
import { captureMedia } from './capture/capture-media.js'
import { scanningCapture } from './capture/capture-scanned.js'
import { type CaptureRetryPolicy, DEFAULT_RETRY_POLICY } from './capture/retry-policy.js'
import type { Catalog, ForwardRecord, ForwardSettlement, Settlement, TaskRecord, TaskSettlement } from './catalog/catalog.js'
import type { Config } from './config/options.js'
import { MediagateError } from './errors.js'
import { dashboardRoutes } from './dashboard/dashboard-routes.js'
import type { ForwardRetryPolicy } from './forwarding/forward-job.js'
import { setupForwarding } from './forwarding/forwarding.js'
import { policyTable } from './intake/arrival-rules.js'
import { Intake } from './intake/intake.js'
import { webhookRoutes } from './intake/webhook-routes.js'
import { isWebhookPost, webhookPostHandler } from './intake/webhook-post.js'
import { headerValue, requestIds } from './serve/request-ids.js'
import { gatewayServerFactory } from './serve/gateway-server.js'
import { JobEngine } from './jobs/job-engine.js'
import { type CpuPressure, NO_CPU_PRESSURE, openCpuPressure } from './jobs/cpu-pressure.js'
import { yieldingToCpuPressure } from './jobs/yield-to-cpu-pressure.js'
import type { Logger } from './logging/logger.js'
import type { MediaRecord } from './media/record.js'
import { Metrics } from './metrics/metrics.js'
import { metricsRoutes } from './metrics/metrics-routes.js'
import { cachedQueueStats } from './metrics/stats-cache.js'
import { openParts, type Parts } from './parts.js'
import type { RetentionSweeper } from './retention/sweeper.js'
import { withBeforeCommit } from './blobs/with-before-commit.js'
import { eraseUnsent } from './retention/unsend.js'
import { apiRoutes } from './serve/api-routes.js'
import { erasureRoutes } from './serve/erasure-routes.js'
import { batchRoutes } from './serve/batch-routes.js'
import { installErrorHandler } from './serve/error-handler.js'
import { forwardsRoutes } from './serve/forwards-routes.js'
import { healthRoutes } from './serve/health-routes.js'
import { linkRoutes } from './serve/link-routes.js'
import { RemoteContent } from './serve/remote-content.js'
import { LinkSigner, linkKeys } from './serve/signed-links.js'
import { SERVER_TIMEOUTS, type ServerTimeouts } from './serve/server-timeouts.js'
import { statsRoutes } from './metrics/stats-route.js'
import { provideSessions } from './serve/api-auth.js'
import { DashboardSessions } from './serve/session-token.js'
import { DERIVE_TASK, deriveTaskHandler, withStoredTasks } from './derivatives/derive-job.js'
import { taskJobs } from './tasks/task-jobs.js'
import { derivativeRoutes } from './serve/derivative-routes.js'
import { outboundRoutes } from './serve/outbound-routes.js'
import { HandleService } from './outbound/handles.js'
import { metaDeleteTaskHandler } from './outbound/meta-delete-job.js'

export interface GatewayOptions {
  /**
   * A catalog to use instead of the configured one; the caller opens and closes it (the gateway
   * migrates it on start). Work the caller queues through it directly, not through the gateway,
   * wakes no engine: the engines' idle poll finds it (within MEDIAGATE_IDLE_POLL_MAX_MS).
   */
  catalog?: Catalog
  /** A blob store to use instead of the configured one; the caller closes it (the gateway prepares it on start). */
  blobs?: BlobStore
  logger?: Logger
  /** Tuning for tests and benchmarks; users configure through Config. */
  retry?: Partial<CaptureRetryPolicy>
  pollMs?: number
  /** How often the retention sweep runs (worker role); default 15 minutes. */
  sweepIntervalMs?: number
  forwardRetry?: Partial<ForwardRetryPolicy>
  /** The HTTP server's timeouts (serve/server-timeouts.ts); tests shorten them. */
  serverTimeouts?: Partial<ServerTimeouts>
  /** What queued derivations read the CPU's contention from; default the kernel's (openCpuPressure), null for none. */
  cpuPressure?: CpuPressure | null
}

/** What a library user holds: stable across releases, whatever the parts inside become. */
export interface Gateway {
  readonly config: Readonly<Config>
  /**
   * Every HTTP route but the signed webhook POST, which is served on node:http ahead of fastify
   * (its cost per webhook is intake's throughput): `app.inject()` does not reach that one; post
   * webhooks to `url` instead.
   */
  readonly app: FastifyInstance
  readonly catalog: Catalog
  readonly blobs: BlobStore
  /** Base URL once listening, e.g. http://127.0.0.1:8080. */
  readonly url: string | undefined
  /** Migrates, prepares the blob store, listens (unless the role is worker) and starts the background jobs. */
  start(): Promise<void>
  close(): Promise<void>
}

/** The gateway's moving parts, for mediagate's own commands and tests; not part of the library API. */
export interface GatewayInternals {
  readonly parts: Parts
  readonly intake: Intake
  readonly metrics: Metrics
  readonly remote: RemoteContent
  /** Captures media; present where the worker runs. */
  readonly capture: JobEngine<MediaRecord, Settlement> | undefined
  /** Delivers the forwarding outbox (MEDIAGATE_FORWARD_URL); present where the worker runs. */
  readonly forwarder: JobEngine<ForwardRecord, ForwardSettlement> | undefined
  /** Makes thumbnails, previews and facts (MEDIAGATE_DERIVE); present where the worker runs. */
  readonly deriver: JobEngine<TaskRecord, TaskSettlement> | undefined
  /** The periodic retention sweep; present where the worker runs. */
  readonly sweeper: RetentionSweeper | undefined
}

const internals = new WeakMap<Gateway, GatewayInternals>()

export function gatewayInternals(gateway: Gateway): GatewayInternals {
  const found = internals.get(gateway)
  if (!found) throw new TypeError('not a gateway made by createGateway')
  return found
}

export async function createGateway(config: Readonly<Config>, options: GatewayOptions = {}): Promise<Gateway> {
  const parts = await openParts(config, {
    ...(options.logger ? { logger: options.logger } : {}),
    catalog: options.catalog ?? 'serve',
    blobs: options.blobs ?? 'own',
  })
  const { logger, catalog, blobs, eraser } = parts
  const runsWorker = config.role !== 'api'
  const signer = new LinkSigner(linkKeys(config))
  let url: string | undefined
  const forwarding = setupForwarding(config, {
    catalog,
    logger,
    runsWorker,
    contentUrl: (id, expiresAt) => {
      const base = config.publicUrl ?? url
      return signer.enabled && base ? `${base}${signer.path(id, expiresAt)}` : null
    },
    ...(options.forwardRetry ? { retry: options.forwardRetry } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  })

  const queueStats = cachedQueueStats(catalog)
  const metrics = new Metrics({ catalog, logger, queueStats })
  const retry = { ...DEFAULT_RETRY_POLICY, windowMs: config.retryWindowMs, ...options.retry }
  // Each capture leases its blob key before the put commits, so an erasure never deletes bytes it is about to use.
  const { leaser } = parts
  const storedTasks = parts.storedTasks
  // Read only for audio and video (ffmpeg is located on first use).
  const deriverPlan = { get ffmpeg() { return parts.ffmpeg }, stripMetadata: config.stripMetadata }
  const download: CaptureFn = (media, signal) => captureMedia(media, { blobs: withBeforeCommit(blobs, leaser.beforeCommit(media, signal)), sources: parts.sources }, signal)
  const scanner = parts.scanner
  scanner?.observe((result, seconds) => metrics.scanned(result, seconds))
  // Another media's stored bytes found infected: its app hears of it through a forward sent again.
  const resendForwards = (webhookIds: (string | null)[]) => {
    const ids = webhookIds.filter((id): id is string => id !== null)
    if (!forwarding || ids.length === 0) return
    catalog.resendForwards(ids).catch((err: unknown) => logger.error({ err }, 'queueing forwards about infected media failed'))
  }
  const scanStepDeps = scanner ? { scanner, blobs, catalog, retry, onQuarantined: (records: MediaRecord[]) => resendForwards(records.map((r) => r.webhookId)) } : undefined
  const scanned: CaptureFn = scanStepDeps ? scanningCapture(download, scanStepDeps) : download
  const capture: CaptureFn = metrics.timeCapture(async (media, signal) => {
    const stored = await scanned(media, signal)
    // Queued with the settlement that stores the media, so no stored media misses its derivation.
    // Bytes the deriver would skip get their `skipped` with the settlement instead of a task.
    return stored.status === 'stored' ? withStoredTasks(stored, storedTasks, deriverPlan) : stored
  })
  const captureEngine = runsWorker
    ? new JobEngine(
        captureJobs({
          catalog,
          discardBlobs: (keys) => eraser.discard(keys),
          capture,
          retry,
          onSettled: (media, settlement) => {
            metrics.captureSettled(media.platform, settlement)
            metrics.captureEnded(media, settlement)
            // A forward already sent (`received`) said pending: the app hears of the infection. One still waiting carries it anyway.
            if (settlement.status === 'failed' && settlement.error.code === 'infected') resendForwards([media.webhookId])
            // The last media of a webhook settled: a forward waiting for it may be due.
            if (settlement.status !== 'retry') forwarding?.forwarder?.wake()
            // Only a queued derive task is work for it (a wake costs the idle engine a claim).
            if (settlement.status === 'stored' && settlement.enqueue?.includes(DERIVE_TASK)) deriveEngine?.wake()
          },
        }),
        {
          logger,
          concurrency: config.concurrency,
          leaseMs: config.leaseSeconds * 1000,
          crashLimit: config.crashLimit,
          idlePollMaxMs: config.idlePollMaxMs,
          ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        },
      )
    : undefined
  // Deriving never holds up capture: its own engine, its own (small) concurrency, after the media
  // is stored, and (where the kernel says how contended the CPU is) not while a burst keeps every core busy.
  const cpuPressure = runsWorker && config.derive && config.deriveYieldPressure > 0 ? (options.cpuPressure === undefined ? openCpuPressure() : (options.cpuPressure ?? undefined)) : undefined
  const deriveJobs = () => {
    const jobs = taskJobs(catalog, deriveTaskHandler({ catalog, derivations: parts.derivations }))
    return cpuPressure ? yieldingToCpuPressure(jobs, { pressure: cpuPressure, thresholdPercent: config.deriveYieldPressure, maxWaitMs: config.deriveYieldMaxMs }) : jobs
  }
  const deriveEngine =
    runsWorker && config.derive
      ? new JobEngine(deriveJobs(), {
          logger,
          concurrency: config.deriveConcurrency,
          leaseMs: config.leaseSeconds * 1000,
          crashLimit: config.crashLimit,
          idlePollMaxMs: config.idlePollMaxMs,
          ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        })
      : undefined
  // Erased media's uploads deleted at Meta: queued by the erasure itself, so every erasure path reaches it.
  const metaDeleteEngine = runsWorker
    ? new JobEngine(taskJobs(catalog, metaDeleteTaskHandler({ catalog, graph: parts.graph })), {
        logger,
        concurrency: 1,
        leaseMs: config.leaseSeconds * 1000,
        crashLimit: config.crashLimit,
        idlePollMaxMs: config.idlePollMaxMs,
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      })
    : undefined
  // Work queued through the catalog, by this process or (PostgreSQL) another, wakes its engine.
  parts.jobSignals.on('media', () => captureEngine?.wake())
  parts.jobSignals.on('forwards', () => forwarding?.forwarder?.wake())
  parts.jobSignals.on('tasks', () => {
    deriveEngine?.wake()
    metaDeleteEngine?.wake()
  })
  const sweeper = runsWorker ? parts.sweeper(options.sweepIntervalMs !== undefined ? { intervalMs: options.sweepIntervalMs, firstDelayMs: options.sweepIntervalMs } : {}) : undefined
  const remote = new RemoteContent({ catalog, blobs, sources: parts.sources, leaser, logger, discardBlobs: async (keys) => void (await eraser.discard(keys)), enqueue: storedTasks, ...(scanStepDeps ? { scan: scanStepDeps } : {}) })
  const intake = new Intake({
    catalog,
    appSecrets: config.appSecrets,
    logger,
    ...(forwarding ? { forward: forwarding.intake } : {}),
    policies: policyTable(config),
    noStorageNumbers: parts.accounts.noStorage,
    ...(config.honorUnsend ? { onUnsends: async (unsends) => void (await eraseUnsent(unsends, { catalog, eraser, logger })) } : {}),
  })

  const timeouts = { ...SERVER_TIMEOUTS, ...options.serverTimeouts }
  // One sequence of request ids for fastify's routes and the webhook POST served ahead of it.
  const nextRequestId = requestIds()
  let closing = false
  const postWebhook =
    config.role !== 'worker'
      ? webhookPostHandler({ intake, logger, metrics, requestId: (req) => headerValue(req.headers['x-request-id']) || nextRequestId(), closing: () => closing })
      : undefined
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    return503OnClosing: true,
    forceCloseConnections: true,
    requestIdHeader: 'x-request-id',
    genReqId: nextRequestId,
    serverFactory: gatewayServerFactory(timeouts, postWebhook ? { matches: isWebhookPost, handle: postWebhook } : undefined),
    ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
  })
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  // Clients and proxies can correlate: the id (theirs, or ours) comes back and is on every log line.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id)
    done()
  })
  installErrorHandler(app)
  // Before any route plugin: every API key check reads dashboard sessions from the catalog.
  const sessions = new DashboardSessions({ apiKey: config.apiKey, catalog })
  provideSessions(app, sessions)
  await app.register(healthRoutes, { catalog, blobs, ...(scanner ? { scanner } : {}) })
  await app.register(metricsRoutes, { metrics, apiKey: config.apiKey, public: config.metricsPublic })
  if (config.role !== 'worker') {
    await app.register(webhookRoutes, { verifyToken: config.verifyToken })
    await app.register(apiRoutes, {
      catalog,
      blobs,
      apiKey: config.apiKey,
      remote,
      discardBlobs: (keys) => eraser.discard(keys),
      ...(config.stripMetadata ? { stripped: parts.derivations } : {}),
    })
    await app.register(outboundRoutes, {
      catalog,
      apiKey: config.apiKey,
      store: {
        catalog,
        blobs,
        leaser,
        maxBytes: config.maxBytes,
        discardBlobs: (keys) => eraser.discard(keys),
        enqueue: storedTasks,
        ...(scanner ? { scan: { scanner, blobs, catalog, retry } } : {}),
      },
      handles: new HandleService({ catalog, blobs, graph: parts.graph, marginMs: config.handleMarginHours * 3600_000, ffmpeg: parts.ffmpeg, maxPixels: config.maxPixels }),
    })
    await app.register(derivativeRoutes, { catalog, blobs, apiKey: config.apiKey, signer, derivations: parts.derivations })
    await app.register(linkRoutes, { catalog, blobs, remote, apiKey: config.apiKey, signer, publicUrl: config.publicUrl, ...(config.stripMetadata ? { stripped: parts.derivations } : {}) })
    await app.register(forwardsRoutes, { catalog, apiKey: config.apiKey })
    await app.register(erasureRoutes, { catalog, eraser, apiKey: config.apiKey })
    await app.register(batchRoutes, { catalog, eraser, apiKey: config.apiKey })
    await app.register(statsRoutes, { catalog, apiKey: config.apiKey, queueStats })
    await app.register(dashboardRoutes, { sessions, publicUrl: config.publicUrl })
  }

  const gateway: Gateway = {
    config,
    app,
    // The caller's own object, not the signalling wrapper the gateway's parts use (job-signals.ts).
    catalog: options.catalog ?? catalog,
    blobs,
    get url() {
      return url
    },
    async start() {
      await parts.prepare()
      url = await app.listen({ host: config.host, port: config.port }).catch((err: unknown) => {
        throw listenError(err, config)
      })
      captureEngine?.start()
      deriveEngine?.start()
      metaDeleteEngine?.start()
      forwarding?.forwarder?.start()
      if (runsWorker) parts.jobSignals.listen()
      sweeper?.start()
      // Said only when the kernel was asked: a library user who passed `cpuPressure: null` chose none.
      if (deriveEngine && config.deriveYieldPressure > 0 && !cpuPressure && options.cpuPressure === undefined) logger.info(NO_CPU_PRESSURE)
      logger.info({ url, role: config.role, catalog: catalog.dialect, blobs: blobs.kind }, 'mediagate is running')
    },
    async close() {
      remote.close()
      await app.close()
      await captureEngine?.stop()
      await deriveEngine?.stop()
      await metaDeleteEngine?.stop()
      await forwarding?.close()
      await sweeper?.stop()
      await parts.close()
    },
  }
  internals.set(gateway, { parts, intake, metrics, remote, capture: captureEngine, forwarder: forwarding?.forwarder, deriver: deriveEngine, sweeper })
  return gateway
}

/** A port that cannot be had is a configuration matter: say which setting to change. */
function listenError(err: unknown, config: Readonly<Config>): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  const where = `${config.host}:${config.port}`
  if (code === 'EADDRINUSE') return new MediagateError('invalid_config', `${where} is already in use (another mediagate?): set MEDIAGATE_PORT (--port) to a free port, or stop what listens there`, { cause: err })
  if (code === 'EACCES') return new MediagateError('invalid_config', `${where} needs privileges this process lacks: set MEDIAGATE_PORT (--port) to 1024 or above`, { cause: err })
  if (code === 'EADDRNOTAVAIL') return new MediagateError('invalid_config', `${config.host} is not an address of this machine: set MEDIAGATE_HOST (--host)`, { cause: err })
  return err
}
