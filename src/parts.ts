/**
 * The one place that builds mediagate's parts from a configuration: catalog, blob store,
 * fetcher, the Graph clients (with the access token chosen per account), what the transfer
 * pipeline reads sources with, the blob leaser, the eraser and the retention sweeper. `createGateway` and every
 * CLI command get their parts here, so settings cannot drift between them.
 *
 * Each part is built on first use; the catalog and the blob store only when the caller says how
 * it uses them (or passes its own instance, which it keeps owning).
 */
import type { BlobStore } from './blobs/blob-store.js'
import type { Catalog } from './catalog/catalog.js'
import { type CatalogAccess, openConfiguredBlobStore, openConfiguredCatalog } from './config/backends.js'
import { type AccountTokens, loadAccountTokens } from './config/config-file.js'
import type { Config } from './config/options.js'
import { MediagateError } from './errors.js'
import { Fetcher } from './fetch/index.js'
import { createLogger, type Logger } from './logging/logger.js'
import { GraphClients } from './platforms/graph/index.js'
import { BlobLeaser } from './retention/blob-leaser.js'
import { Eraser } from './retention/eraser.js'
import { retentionRules } from './retention/retention-rules.js'
import { RetentionSweeper } from './retention/sweeper.js'
import type { SourceDeps } from './transfer/open-source.js'
import { WhatsAppUrlCache } from './transfer/whatsapp-urls.js'
import { ClamdClient } from './scanning/clamd-client.js'
import { Scanner } from './scanning/scanner.js'
import { USER_AGENT } from './version.js'
import { Deriver } from './derivatives/deriver.js'
import { type FfmpegTools, locateFfmpeg } from './derivatives/ffmpeg.js'
import { setLibvipsNice } from './derivatives/tool-priority.js'
import { SingleFlight } from './derivatives/single-flight.js'
import { DERIVE_TASK } from './catalog/task-plans.js'
import { JobSignals, signallingCatalog } from './catalog/job-signals.js'
import { PostgresJobSignals } from './catalog/postgres-job-signals.js'

export type { CatalogAccess } from './config/backends.js'

/**
 * `own`: this process prepares the store (`init()` clears leftovers of interrupted puts).
 * `shared`: used beside a running gateway, whose puts in progress must be left alone.
 */
export type BlobAccess = 'own' | 'shared'

export interface PartsOptions {
  logger?: Logger
  /** How to open the configured catalog, or an instance to use (the caller closes it). Omitted: none. */
  catalog?: CatalogAccess | Catalog
  /** How to open the configured blob store, or an instance to use (the caller closes it). Omitted: none. */
  blobs?: BlobAccess | BlobStore
}

export interface Parts {
  readonly config: Readonly<Config>
  readonly logger: Logger
  /** The catalog; its methods that queue work emit `jobSignals` once they resolve. */
  readonly catalog: Catalog
  /** "Work was queued" for the job engines: from this process, and on PostgreSQL from the others (LISTEN/NOTIFY). */
  readonly jobSignals: JobSignals
  readonly blobs: BlobStore
  readonly fetcher: Fetcher
  /** mediagate.config.json, read and validated on first use: tokens per account, No-Storage numbers. */
  readonly accounts: AccountTokens
  /** Graph clients by account: the one place an account's access token is chosen. */
  readonly graph: GraphClients
  /** What the transfer pipeline opens sources with (fetcher, Graph clients, size cap). */
  readonly sources: SourceDeps
  /** Erases media (DELETE, unsend, retention, `mediagate delete`): tombstones, then unshared blobs. */
  readonly eraser: Eraser
  /** Leases the blob key of every capture (eager and lazy) before its put commits, so erasures never delete it under it. */
  readonly leaser: BlobLeaser
  /** Task kinds queued in the transaction that makes a media stored (`derive` with MEDIAGATE_DERIVE). */
  readonly storedTasks: string[]
  /** ffmpeg and ffprobe as configured, or undefined when they are not installed. */
  readonly ffmpeg: FfmpegTools | undefined
  /** Makes thumbnails, previews and facts of stored media, one at a time per media (background and on demand). */
  readonly derivations: SingleFlight
  /** The malware scanner (clamd at MEDIAGATE_CLAMAV_URL); undefined when scanning is off. */
  readonly scanner: Scanner | undefined
  /** A retention sweeper over these parts (started by the worker role, run once by `mediagate sweep`). */
  sweeper(timing?: { intervalMs?: number; firstDelayMs?: number }): RetentionSweeper
  /** Migrates the catalog (unless it was opened `read`) and prepares an `own` blob store. */
  prepare(): Promise<void>
  /** Closes what these parts opened, not the instances a caller passed in. */
  close(): Promise<void>
}

export async function openParts(config: Readonly<Config>, options: PartsOptions = {}): Promise<Parts> {
  const logger = options.logger ?? createLogger(config.logLevel, undefined, config.logFormat)
  const catalogAccess = typeof options.catalog === 'string' ? options.catalog : undefined
  const blobAccess = typeof options.blobs === 'string' ? options.blobs : undefined
  const closers: (() => Promise<void>)[] = []
  // libvips's thread pool is the process's, as sharp's concurrency is.
  setLibvipsNice(config.toolNice)
  let catalog: Catalog | undefined
  let blobs: BlobStore | undefined
  try {
    if (typeof options.catalog === 'object') catalog = options.catalog
    else if (catalogAccess) {
      const opened = await openConfiguredCatalog(config, logger, { access: catalogAccess })
      closers.push(() => opened.close())
      catalog = opened
    }
    if (typeof options.blobs === 'object') blobs = options.blobs
    else if (blobAccess) {
      const opened = await openConfiguredBlobStore(config, logger)
      closers.push(() => opened.close())
      blobs = opened
    }
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => {})
    throw err
  }
  // Other processes hear of queued work only through a PostgreSQL catalog they share.
  const target = config.database
  const jobSignals = new JobSignals(
    catalog?.dialect === 'postgres' && target.kind === 'postgres' && catalogAccess !== 'read'
      ? new PostgresJobSignals({ connectionString: target.connectionString, ...(target.schema ? { schema: target.schema } : {}), logger })
      : undefined,
  )
  closers.unshift(() => jobSignals.close())
  if (catalog) catalog = signallingCatalog(catalog, jobSignals)

  let fetcher: Fetcher | undefined
  let accounts: AccountTokens | undefined
  let graph: GraphClients | undefined
  let eraser: Eraser | undefined
  let leaser: BlobLeaser | undefined
  let sources: SourceDeps | undefined
  let derivations: SingleFlight | undefined
  let ffmpeg: FfmpegTools | undefined | null = null
  let scanner: Scanner | undefined
  const parts: Parts = {
    config,
    logger,
    jobSignals,
    get catalog() {
      if (!catalog) throw new MediagateError('internal', 'these parts were opened without a catalog')
      return catalog
    },
    get blobs() {
      if (!blobs) throw new MediagateError('internal', 'these parts were opened without a blob store')
      return blobs
    },
    get fetcher() {
      if (!fetcher) {
        fetcher = new Fetcher({ allowedHosts: config.allowedHosts, userAgent: USER_AGENT, headersTimeoutMs: config.downloadTimeoutMs, bodyTimeoutMs: config.downloadTimeoutMs })
        const opened = fetcher
        closers.push(() => opened.close())
      }
      return fetcher
    },
    get accounts() {
      // mediagate.config.json is read (and validated) by whoever talks to Meta or takes webhooks,
      // and only by them: `mediagate ls` has no use for it, and a broken one must not stop it.
      accounts ??= loadAccountTokens(config.configFile)
      return accounts
    },
    get graph() {
      graph ??= new GraphClients({ graphUrl: config.graphUrl, version: config.graphVersion, fetcher: parts.fetcher, tokens: parts.accounts, defaultToken: config.accessToken })
      return graph
    },
    get sources() {
      // Built once: every capture reads it, and its WhatsApp URL cache is one per process (memory only: see whatsapp-urls.ts).
      sources ??= { fetcher: parts.fetcher, graph: parts.graph, maxBytes: config.maxBytes, deadlineMs: config.downloadDeadlineMs, whatsappUrls: new WhatsAppUrlCache() }
      return sources
    },
    get eraser() {
      eraser ??= new Eraser({ catalog: parts.catalog, blobs: parts.blobs, logger })
      return eraser
    },
    get leaser() {
      // A lazy capture's lease outlives the longest download (see BlobLeaserOptions.remoteHoldMs).
      leaser ??= new BlobLeaser({ catalog: parts.catalog, remoteHoldMs: config.downloadDeadlineMs + config.leaseSeconds * 1000 })
      return leaser
    },
    storedTasks: config.derive ? [DERIVE_TASK] : [],
    get ffmpeg() {
      if (ffmpeg === null) {
        const found = locateFfmpeg(config.ffmpegPath)
        ffmpeg = found ? { ...found, timeoutMs: config.ffmpegTimeoutMs, threads: config.ffmpegThreads, nice: config.toolNice } : undefined
      }
      return ffmpeg
    },
    get derivations() {
      if (!derivations) {
        const deriver = new Deriver({
          catalog: parts.catalog,
          blobs: parts.blobs,
          ffmpeg: parts.ffmpeg,
          maxPixels: config.maxPixels,
          stripMetadata: config.stripMetadata,
          discardBlobs: (keys) => parts.eraser.discard(keys),
        })
        derivations = new SingleFlight(deriver, parts.catalog, config.deriveConcurrency)
      }
      return derivations
    },
    get scanner() {
      if (!config.clamav) return undefined
      scanner ??= new Scanner({
        client: new ClamdClient({ address: config.clamav, timeoutMs: config.clamavTimeoutMs, streamMaxBytes: config.clamavStreamMaxBytes }),
        streamMaxBytes: config.clamavStreamMaxBytes,
        oversize: config.clamavOversize,
      })
      return scanner
    },
    sweeper(timing = {}) {
      return new RetentionSweeper({ catalog: parts.catalog, eraser: parts.eraser, logger, rules: retentionRules(config), ...timing })
    },
    async prepare() {
      if (catalog && catalogAccess !== 'read') {
        await catalog.migrate()
        for (const warning of await catalog.serverWarnings()) logger.warn({ catalog: catalog.dialect }, warning)
      }
      if (blobs && blobAccess !== 'shared') await blobs.init()
    },
    async close() {
      for (const close of closers.splice(0).reverse()) await close()
    },
  }
  return parts
}
