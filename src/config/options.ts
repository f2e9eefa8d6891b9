/**
 * Every configuration option, in one place: its environment variable, default, parser and
 * documentation. The loader, the CLI help text and the README table are all derived from this
 * list (test/config.test.ts checks that the README documents each option).
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { StorageTarget } from '../blobs/open-blob-store.js'
import type { DatabaseTarget } from '../catalog/database-url.js'
import { DEFAULT_CONFIG_FILE } from './config-file.js'
import { DEFAULT_IDLE_POLL_MAX_MS } from '../jobs/job-engine.js'
import { STORAGE_POLICIES, type StoragePolicy } from '../media/record.js'
import { type ClamdAddress, parseClamdAddress } from '../scanning/clamd-address.js'
import { OVERSIZE_CHOICES, type OversizeChoice } from '../scanning/scanner.js'
import {
  parseBoolean,
  parseChoice,
  parseDuration,
  parseGraphVersion,
  parseHostList,
  parseHttpUrl,
  parseProxyList,
  parseInteger,
  parseList,
  ConfigValueError,
} from './parsers.js'

export const ROLES = ['all', 'api', 'worker'] as const
export const FORWARD_WHEN = ['received', 'stored'] as const
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com'

/** Meta's media hosts: WhatsApp's lookaside, Messenger/Instagram CDNs. Suffixes match subdomains. */
export const META_MEDIA_HOSTS = ['fbcdn.net', 'fbsbx.com', 'cdninstagram.com', 'whatsapp.net', 'facebook.com'] as const

export interface Config {
  host: string
  port: number
  dataDir: string
  databaseUrl: string
  /** The catalog `databaseUrl` names, parsed when the configuration loads. */
  database: DatabaseTarget
  storageUrl: string
  /** The blob store `storageUrl` names, parsed when the configuration loads (the MEDIAGATE_S3_* options still apply). */
  storage: StorageTarget
  appSecrets: readonly string[]
  verifyToken: string | undefined
  accessToken: string | undefined
  graphUrl: string
  graphVersion: string
  apiKey: string | undefined
  allowedHosts: readonly string[]
  maxBytes: number
  concurrency: number
  crashLimit: number
  retryWindowMs: number
  leaseSeconds: number
  /** The longest an idle job engine waits before looking for work nobody told it about. */
  idlePollMaxMs: number
  downloadTimeoutMs: number
  /** The most one download may take from start to end (lookup and body), however steadily it flows. */
  downloadDeadlineMs: number
  s3Endpoint: string | undefined
  s3ForcePathStyle: boolean | undefined
  s3Region: string | undefined
  s3Redirect: boolean
  role: (typeof ROLES)[number]
  logLevel: (typeof LOG_LEVELS)[number]
  logFormat: (typeof LOG_FORMATS)[number]
  /** Serve `GET /metrics` without the API key (for a scraper on a private network). */
  metricsPublic: boolean
  /** Sandbox mode: the built-in emulator stands in for Meta (see `sandboxConflicts` for when it may). */
  sandbox: boolean
  /** Keys for signed content links; the first signs, all verify. Empty: derived from the API key. */
  signingSecrets: readonly string[]
  /** Base URL clients reach the gateway at, for signed links; undefined: from the request's Host. */
  publicUrl: string | undefined
  trustProxy: string[] | undefined
  policyWhatsapp: StoragePolicy
  policyMessenger: StoragePolicy
  policyInstagram: StoragePolicy
  /** Instagram `story_mention` and `ig_story`: Meta forbids storing them, hence `proxy` by default. */
  policyInstagramStory: StoragePolicy
  /** Days media are kept after receipt; undefined or 0: forever. The per-platform values win. */
  retentionDays: number | undefined
  retentionDaysWhatsapp: number | undefined
  retentionDaysMessenger: number | undefined
  retentionDaysInstagram: number | undefined
  /** Delete the media of messages the sender unsent (Messenger/Instagram). */
  honorUnsend: boolean
  /** The user's app: every accepted webhook is posted there (with a `mediagate` block); undefined: off. */
  forwardUrl: string | undefined
  /** HMAC key of `X-Mediagate-Signature-256` on forwards; defaults to the first META_APP_SECRET. */
  forwardSecret: string | undefined
  /** Forward at once (`received`) or once every media of the webhook is stored or failed (`stored`). */
  forwardWhen: (typeof FORWARD_WHEN)[number]
  /** Attempts per forward before it is marked `failed`. */
  forwardMaxAttempts: number
  /** mediagate.config.json: access tokens per WhatsApp number and per page; undefined: none. */
  configFile: string | undefined
  /** Make thumbnails, previews and media facts in the background once a media is stored. */
  derive: boolean
  /** Derivations at once per worker process (and on-demand ones at once per API process). */
  deriveConcurrency: number
  /** CPU pressure (percent, PSI) at or above which queued derivations wait (src/jobs/yield-to-cpu-pressure.ts); 0: never. */
  deriveYieldPressure: number
  /** Longest a contended spell holds queued derivations back. */
  deriveYieldMaxMs: number
  /** A cached handle at Meta is reused only while it stays valid this many hours longer (src/outbound). */
  handleMarginHours: number
  /** The ffmpeg binary; undefined: `ffmpeg` on PATH (audio and video derivatives are skipped without one). */
  ffmpegPath: string | undefined
  /** Longest one ffmpeg run may take. */
  ffmpegTimeoutMs: number
  /** Threads one ffmpeg run may use. */
  ffmpegThreads: number
  /** Nice added to the gateway's for libvips's threads and ffmpeg's processes (src/derivatives/tool-priority.ts). */
  toolNice: number
  /** Images with more pixels than this are refused (decompression bombs). */
  maxPixels: number
  /** Serve images' /content without EXIF/GPS metadata (the original stays stored; `?original=1` with the API key). */
  stripMetadata: boolean
  /** Where clamd listens (MEDIAGATE_CLAMAV_URL); undefined: malware scanning is off. */
  clamav: ClamdAddress | undefined
  /** Media larger than clamd's stream limit: `fail` them or let them through marked `skipped`. */
  clamavOversize: OversizeChoice
  /** Longest wait for clamd to connect or say anything during a command. */
  clamavTimeoutMs: number
  /** clamd's StreamMaxLength: larger media are not sent (see clamavOversize). */
  clamavStreamMaxBytes: number
}

/** The options a user sets; `database` and `storage` are parsed from two of them. */
export type OptionKey = Exclude<keyof Config, 'database' | 'storage'>

export interface OptionSpec {
  key: OptionKey
  env: string
  /** The default as documented; `undefined` means none. */
  defaultText: string
  describe: string
  /** Secrets are never printed (help, doctor, logs). */
  secret?: boolean
  /** Turns the raw string into the value; throws ConfigValueError on a wrong value. */
  parse: (raw: string) => unknown
  /** The default, possibly derived from options parsed before it. */
  fallback: (partial: Partial<Config>) => unknown
  /** The options that default is derived from: whoever reads this option reads those too. */
  uses?: readonly OptionKey[]
}

const defaultDatabaseUrl = (dataDir: string | undefined) => `sqlite:${path.join(dataDir ?? path.resolve('data'), 'mediagate.db')}`
const defaultStorageUrl = (dataDir: string | undefined) => `file:${path.join(dataDir ?? path.resolve('data'), 'blobs')}`

/**
 * What rules sandbox mode out, by the setting to unset. The sandbox swaps Meta for a local
 * emulator with a generated token and secret: next to a real token, a real Graph URL or shared
 * PostgreSQL/S3 backends, it would fail every media it touches (a `--role worker` without
 * META_APP_SECRET did exactly that) or write emulator media into production. `auto` enters it
 * only on the embedded defaults of a whole gateway; `forced` (MEDIAGATE_SANDBOX=1) also admits a
 * local SQLite file and disk directory of the user's choosing, never PostgreSQL or S3.
 */
export function sandboxConflicts(c: Partial<Config>, mode: 'auto' | 'forced', cwd: string = process.cwd()): string[] {
  const conflicts: string[] = []
  if ((c.appSecrets?.length ?? 0) > 0) conflicts.push('META_APP_SECRET')
  if (c.accessToken !== undefined) conflicts.push('WHATSAPP_ACCESS_TOKEN')
  if (c.graphUrl !== undefined && c.graphUrl !== DEFAULT_GRAPH_URL) conflicts.push('META_GRAPH_URL')
  if (c.configFile !== undefined) conflicts.push('MEDIAGATE_CONFIG_FILE')
  else if (existsSync(path.resolve(cwd, DEFAULT_CONFIG_FILE))) conflicts.push(`./${DEFAULT_CONFIG_FILE} (its tokens)`)
  if (mode === 'auto') {
    if (c.databaseUrl !== undefined && c.databaseUrl !== defaultDatabaseUrl(c.dataDir)) conflicts.push('MEDIAGATE_DATABASE_URL')
    if (c.storageUrl !== undefined && c.storageUrl !== defaultStorageUrl(c.dataDir)) conflicts.push('MEDIAGATE_STORAGE_URL')
  } else {
    if (c.database?.kind === 'postgres') conflicts.push('MEDIAGATE_DATABASE_URL (PostgreSQL)')
    if (c.storage?.kind === 's3') conflicts.push('MEDIAGATE_STORAGE_URL (S3)')
  }
  if (c.role !== undefined && c.role !== 'all') conflicts.push(`MEDIAGATE_ROLE=${c.role}`)
  return conflicts
}

/** Lazy needs something to come back to: only WhatsApp's media id (7 days) is one. */
function parsePolicy(platform: 'whatsapp' | 'messenger' | 'instagram') {
  return (raw: string): StoragePolicy => {
    const policy = parseChoice(raw, STORAGE_POLICIES)
    if (policy === 'lazy' && platform !== 'whatsapp') {
      const name = platform === 'messenger' ? 'Messenger' : 'Instagram'
      throw new ConfigValueError(`\`lazy\` is WhatsApp-only: ${name} sends short-lived CDN URLs and no media id, so there is nothing to come back to later; use eager or proxy`)
    }
    return policy
  }
}

/** Signing keys are secrets: never echo one back, not even a short one. */
function parseSigningSecrets(raw: string): string[] {
  const keys = parseList(raw)
  if (keys.some((k) => k.length < 16)) throw new ConfigValueError('every key must be at least 16 characters')
  return keys
}

const parseDays = (r: string) => parseInteger(r, 0, 36_500)

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'host', env: 'MEDIAGATE_HOST', defaultText: '127.0.0.1', describe: 'address to listen on', parse: (r) => r.trim(), fallback: () => '127.0.0.1' },
  { key: 'port', env: 'MEDIAGATE_PORT', defaultText: '8080', describe: 'port to listen on (0 picks a free one)', parse: (r) => parseInteger(r, 0, 65535), fallback: () => 8080 },
  { key: 'dataDir', env: 'MEDIAGATE_DATA_DIR', defaultText: './data', describe: 'directory for the SQLite file and the blobs', parse: (r) => path.resolve(r.trim()), fallback: () => path.resolve('data') },
  {
    key: 'databaseUrl',
    env: 'MEDIAGATE_DATABASE_URL',
    defaultText: 'sqlite:<data dir>/mediagate.db',
    describe: 'catalog: `sqlite:<path>` or `postgres://user:pass@host/db`',
    secret: true,
    parse: (r) => r.trim(),
    fallback: (c) => defaultDatabaseUrl(c.dataDir),
    uses: ['dataDir'],
  },
  {
    key: 'storageUrl',
    env: 'MEDIAGATE_STORAGE_URL',
    defaultText: 'file:<data dir>/blobs',
    describe: 'blob store: `file:<directory>` or `s3://bucket/prefix`',
    parse: (r) => r.trim(),
    fallback: (c) => defaultStorageUrl(c.dataDir),
    uses: ['dataDir'],
  },
  { key: 's3Endpoint', env: 'MEDIAGATE_S3_ENDPOINT', defaultText: '— (AWS)', describe: 'S3 server URL for anything but AWS: R2, B2, Ceph, Swift, MinIO (credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS chain)', parse: parseHttpUrl, fallback: () => undefined },
  { key: 's3ForcePathStyle', env: 'MEDIAGATE_S3_FORCE_PATH_STYLE', defaultText: '1 with an endpoint, else 0', describe: 'address buckets as `endpoint/bucket` instead of `bucket.endpoint`', parse: parseBoolean, fallback: () => undefined },
  { key: 's3Region', env: 'MEDIAGATE_S3_REGION', defaultText: 'AWS_REGION, else us-east-1', describe: 'S3 region', parse: (r) => r.trim(), fallback: () => undefined },
  { key: 's3Redirect', env: 'MEDIAGATE_S3_REDIRECT', defaultText: '0', describe: 'serve content by redirecting clients to a short-lived presigned S3 URL instead of streaming it', parse: parseBoolean, fallback: () => false },
  { key: 'appSecrets', env: 'META_APP_SECRET', defaultText: '—', describe: "Meta app secret(s), comma-separated (several during rotation); checks X-Hub-Signature-256. Required by `serve` (but `--role worker`) outside sandbox mode", secret: true, parse: parseList, fallback: () => [] },
  { key: 'verifyToken', env: 'META_VERIFY_TOKEN', defaultText: '—', describe: "token Meta's webhook handshake (hub.verify_token) must match", secret: true, parse: (r) => r, fallback: () => undefined },
  { key: 'accessToken', env: 'WHATSAPP_ACCESS_TOKEN', defaultText: '—', describe: 'Bearer token for the Graph API (WhatsApp media lookups and downloads)', secret: true, parse: (r) => r.trim(), fallback: () => undefined },
  { key: 'graphUrl', env: 'META_GRAPH_URL', defaultText: DEFAULT_GRAPH_URL, describe: 'Graph API base URL', parse: parseHttpUrl, fallback: () => DEFAULT_GRAPH_URL },
  { key: 'graphVersion', env: 'META_GRAPH_VERSION', defaultText: 'v26.0', describe: 'Graph API version', parse: parseGraphVersion, fallback: () => 'v26.0' },
  { key: 'apiKey', env: 'MEDIAGATE_API_KEY', defaultText: '— (generated and printed in sandbox mode)', describe: 'Bearer key for the /v1 API', secret: true, parse: (r) => r.trim(), fallback: () => undefined },
  {
    key: 'allowedHosts',
    env: 'MEDIAGATE_ALLOWED_HOSTS',
    defaultText: META_MEDIA_HOSTS.join(','),
    describe: 'hosts media may be downloaded from (suffixes match subdomains); an explicit entry such as 127.0.0.1 also admits that private address and plain http',
    parse: parseHostList,
    fallback: () => [...META_MEDIA_HOSTS],
  },
  { key: 'maxBytes', env: 'MEDIAGATE_MAX_BYTES', defaultText: '104857600', describe: 'largest media accepted, in bytes', parse: (r) => parseInteger(r, 1, 2 ** 40), fallback: () => 104_857_600 },
  { key: 'concurrency', env: 'MEDIAGATE_CONCURRENCY', defaultText: '64', describe: 'downloads at once per worker process (Meta answers in ~100 ms, so keeping up with 200 media/s needs ~40 in flight; each S3 upload in flight holds up to ~15 MiB)', parse: (r) => parseInteger(r, 1, 1024), fallback: () => 64 },
  {
    key: 'retryWindowMs',
    env: 'MEDIAGATE_RETRY_WINDOW',
    defaultText: '7d',
    describe: 'how long after receipt a media whose capture keeps failing for a transient reason (Meta, the network, our own blob store or database) is retried, with backoff up to 5 minutes; its source\'s deadline ends it sooner (a WhatsApp media id lives 7 days, a CDN URL until the expiry it carries). A duration: 90s, 30m, 24h, 7d',
    parse: (r) => {
      const ms = parseDuration(r)
      if (ms < 1000) throw new ConfigValueError(`must be at least 1s, got "${r}"`)
      return ms
    },
    fallback: () => 7 * 24 * 3_600_000,
  },
  { key: 'crashLimit', env: 'MEDIAGATE_CRASH_LIMIT', defaultText: '5', describe: 'attempts in a row of one media or forward that may end with their process (a crash, a hang, a lost lease) before it fails with `crashed` instead of being taken again', parse: (r) => parseInteger(r, 1, 100), fallback: () => 5 },
  { key: 'leaseSeconds', env: 'MEDIAGATE_LEASE_SECONDS', defaultText: '60', describe: 'how long a claimed job is reserved before another worker may take it over (renewed while a download runs)', parse: (r) => parseInteger(r, 5, 3600), fallback: () => 60 },
  {
    key: 'idlePollMaxMs',
    env: 'MEDIAGATE_IDLE_POLL_MAX_MS',
    defaultText: '10000',
    describe:
      'an idle worker looks for jobs every second, then half as often each time it finds none, up to this; work queued in the same process wakes it at once, and on PostgreSQL so does work queued by other processes (LISTEN/NOTIFY), so this bounds how late a SQLite gateway notices work queued by a CLI command beside it (`mediagate retry`, `forwards --retry`, `delete`)',
    parse: (r) => parseInteger(r, 1000, 3_600_000),
    fallback: () => DEFAULT_IDLE_POLL_MAX_MS,
  },
  { key: 'downloadTimeoutMs', env: 'MEDIAGATE_DOWNLOAD_TIMEOUT_MS', defaultText: '30000', describe: 'longest wait for response headers, or silence between two body chunks, before a download counts as stalled and is retried', parse: (r) => parseInteger(r, 100, 600_000), fallback: () => 30_000 },
  // 10 minutes moves 100 MB (MEDIAGATE_MAX_BYTES) at ~1.4 Mbit/s. The stall timeout cannot stand in for
  // it: undici does not count silence while the reader holds the body paused (backpressure), so only
  // a deadline ends every download, however its reader behaves.
  { key: 'downloadDeadlineMs', env: 'MEDIAGATE_DOWNLOAD_DEADLINE_MS', defaultText: '600000', describe: 'longest time one download from Meta may take, lookup and body included, however steadily it flows; past it the download is aborted with `network` and retried (eager), or the client\'s response is cut short (lazy, proxy)', parse: (r) => parseInteger(r, 1000, 86_400_000), fallback: () => 600_000 },
  { key: 'role', env: 'MEDIAGATE_ROLE', defaultText: 'all', describe: '`all`, `api` (intake and serving only) or `worker` (capture only)', parse: (r) => parseChoice(r, ROLES), fallback: () => 'all' },
  { key: 'logLevel', env: 'MEDIAGATE_LOG_LEVEL', defaultText: 'info', describe: `log level: ${LOG_LEVELS.join(', ')}`, parse: (r) => parseChoice(r, LOG_LEVELS), fallback: () => 'info' },
  { key: 'logFormat', env: 'MEDIAGATE_LOG_FORMAT', defaultText: 'auto', describe: '`json` (one JSON object per line), `pretty` (readable), or `auto`: pretty on a terminal, JSON otherwise', parse: (r) => parseChoice(r, LOG_FORMATS), fallback: () => 'auto' },
  { key: 'metricsPublic', env: 'MEDIAGATE_METRICS_PUBLIC', defaultText: '0', describe: 'serve `GET /metrics` without the API key (1) or only with it (0)', parse: parseBoolean, fallback: () => false },
  {
    key: 'signingSecrets',
    env: 'MEDIAGATE_SIGNING_SECRET',
    defaultText: '— (derived from MEDIAGATE_API_KEY with HKDF)',
    describe: 'key(s) for signed content links, comma-separated, 16+ characters each: the first signs, all verify (rotation)',
    secret: true,
    parse: parseSigningSecrets,
    fallback: () => [],
  },
  { key: 'publicUrl', env: 'MEDIAGATE_PUBLIC_URL', defaultText: '— (from the request\'s Host header)', describe: 'base URL clients reach mediagate at (e.g. https://media.example.com), used in signed links, and as the origin dashboard sign-ins may come from behind a reverse proxy', parse: parseHttpUrl, fallback: () => undefined },
  {
    key: 'trustProxy',
    env: 'MEDIAGATE_TRUST_PROXY',
    defaultText: '— (none: the connection\'s address counts)',
    describe:
      'reverse proxies in front of mediagate, comma-separated: IP addresses, CIDR ranges (10.0.0.0/8), `loopback`, `linklocal` or `uniquelocal`. Their `X-Forwarded-For`, `-Proto` and `-Host` are believed, so the dashboard\'s sign-in limit counts each client\'s address instead of the proxy\'s (without it, every client behind the proxy shares one budget)',
    parse: parseProxyList,
    fallback: () => undefined,
  },
  { key: 'policyWhatsapp', env: 'MEDIAGATE_POLICY_WHATSAPP', defaultText: 'eager', describe: 'storage policy for WhatsApp media: `eager`, `lazy` or `proxy`', parse: parsePolicy('whatsapp'), fallback: () => 'eager' },
  { key: 'policyMessenger', env: 'MEDIAGATE_POLICY_MESSENGER', defaultText: 'eager', describe: 'storage policy for Messenger media: `eager` or `proxy`', parse: parsePolicy('messenger'), fallback: () => 'eager' },
  { key: 'policyInstagram', env: 'MEDIAGATE_POLICY_INSTAGRAM', defaultText: 'eager', describe: 'storage policy for Instagram media: `eager` or `proxy`', parse: parsePolicy('instagram'), fallback: () => 'eager' },
  {
    key: 'policyInstagramStory',
    env: 'MEDIAGATE_POLICY_INSTAGRAM_STORY',
    defaultText: 'proxy',
    describe: 'storage policy for Instagram story mentions and `ig_story` attachments: `proxy` (never stored, as Meta\'s policy requires; 410 once the CDN URL expires) or `eager`',
    parse: parsePolicy('instagram'),
    fallback: () => 'proxy',
  },
  { key: 'retentionDays', env: 'MEDIAGATE_RETENTION_DAYS', defaultText: '— (keep forever)', describe: 'delete media this many days after receipt (0: keep forever)', parse: parseDays, fallback: () => undefined },
  { key: 'retentionDaysWhatsapp', env: 'MEDIAGATE_RETENTION_DAYS_WHATSAPP', defaultText: 'MEDIAGATE_RETENTION_DAYS', describe: 'retention for WhatsApp media, in days (0: keep forever)', parse: parseDays, fallback: () => undefined },
  { key: 'retentionDaysMessenger', env: 'MEDIAGATE_RETENTION_DAYS_MESSENGER', defaultText: 'MEDIAGATE_RETENTION_DAYS', describe: 'retention for Messenger media, in days (0: keep forever)', parse: parseDays, fallback: () => undefined },
  { key: 'retentionDaysInstagram', env: 'MEDIAGATE_RETENTION_DAYS_INSTAGRAM', defaultText: 'MEDIAGATE_RETENTION_DAYS', describe: 'retention for Instagram media, in days (0: keep forever)', parse: parseDays, fallback: () => undefined },
  { key: 'honorUnsend', env: 'MEDIAGATE_HONOR_UNSEND', defaultText: '1', describe: 'delete the media of Messenger/Instagram messages their sender unsent (1) or keep them (0)', parse: parseBoolean, fallback: () => true },
  { key: 'forwardUrl', env: 'MEDIAGATE_FORWARD_URL', defaultText: '— (off)', describe: "your app's webhook URL: every accepted webhook is forwarded there as Meta sent it, plus a `mediagate` block (durable outbox, retried)", parse: parseHttpUrl, fallback: () => undefined },
  { key: 'forwardSecret', env: 'MEDIAGATE_FORWARD_SECRET', defaultText: 'the first META_APP_SECRET', describe: 'HMAC key of the `X-Mediagate-Signature-256` (and `X-Hub-Signature-256`) header on forwards', secret: true, parse: (r) => r, fallback: (c) => c.appSecrets?.[0], uses: ['appSecrets'] },
  { key: 'forwardWhen', env: 'MEDIAGATE_FORWARD_WHEN', defaultText: 'received', describe: '`received` (forward at once) or `stored` (once every media of the webhook is stored or failed, so its links work)', parse: (r) => parseChoice(r, FORWARD_WHEN), fallback: () => 'received' },
  { key: 'forwardMaxAttempts', env: 'MEDIAGATE_FORWARD_MAX_ATTEMPTS', defaultText: '20', describe: 'attempts per forward (exponential backoff up to 10 minutes) before it is marked `failed`', parse: (r) => parseInteger(r, 1, 1000), fallback: () => 20 },
  { key: 'configFile', env: 'MEDIAGATE_CONFIG_FILE', defaultText: './mediagate.config.json if it exists', describe: 'JSON file with access tokens per WhatsApp phone_number_id and per page id (see "Several numbers and pages")', parse: (r) => path.resolve(r.trim()), fallback: () => undefined },
  { key: 'derive', env: 'MEDIAGATE_DERIVE', defaultText: '1', describe: 'make thumbnails, playable previews and media facts (size, duration, waveform, placeholder) in the background once a media is stored (1) or not (0; requests still make them on demand)', parse: parseBoolean, fallback: () => true },
  { key: 'deriveConcurrency', env: 'MEDIAGATE_DERIVE_CONCURRENCY', defaultText: '1', describe: 'derivations at once per worker process, and on-demand ones per API process (each may keep a core busy: keep it below the cores you can spare from captures)', parse: (r) => parseInteger(r, 1, 64), fallback: () => 1 },
  { key: 'deriveYieldPressure', env: 'MEDIAGATE_DERIVE_YIELD_PRESSURE', defaultText: '30', describe: "queued derivations wait while the CPU is contended: while some task waited for a core during at least this percent of the last half second (Linux's pressure stall information, for the gateway's cgroup or else the machine), so a burst of captures gets the cores first; 0 never waits. Where that figure cannot be read (not Linux 4.20+, PSI off) they do not wait, and the start log and `mediagate doctor` say so", parse: (r) => parseInteger(r, 0, 100), fallback: () => 30 },
  { key: 'deriveYieldMaxMs', env: 'MEDIAGATE_DERIVE_YIELD_MAX_MS', defaultText: '30000', describe: 'longest queued derivations wait for a contended CPU (MEDIAGATE_DERIVE_YIELD_PRESSURE); after that they run, at MEDIAGATE_TOOL_NICE, until it calms down', parse: (r) => parseInteger(r, 0, 3_600_000), fallback: () => 30_000 },
  { key: 'handleMarginHours', env: 'MEDIAGATE_HANDLE_MARGIN_HOURS', defaultText: '24', describe: 'a cached handle at Meta (`POST /v1/media/{id}/handles`) is reused only while it stays valid this many hours longer; closer to its expiry the next request uploads again', parse: (r) => parseInteger(r, 0, 720), fallback: () => 24 },
  { key: 'ffmpegPath', env: 'MEDIAGATE_FFMPEG', defaultText: '`ffmpeg` on PATH', describe: 'the ffmpeg binary for audio and video derivatives (Debian: `apt-get install ffmpeg`); without one they are skipped, images still work', parse: (r) => path.resolve(r.trim()), fallback: () => undefined },
  { key: 'ffmpegTimeoutMs', env: 'MEDIAGATE_FFMPEG_TIMEOUT_MS', defaultText: '120000', describe: 'longest time one ffmpeg run may take before it is killed and the derivation fails', parse: (r) => parseInteger(r, 1000, 3_600_000), fallback: () => 120_000 },
  { key: 'ffmpegThreads', env: 'MEDIAGATE_FFMPEG_THREADS', defaultText: '1', describe: 'threads one ffmpeg run may use', parse: (r) => parseInteger(r, 1, 64), fallback: () => 1 },
  { key: 'toolNice', env: 'MEDIAGATE_TOOL_NICE', defaultText: '10', describe: "how much lower than the gateway's own the CPU priority (Unix nice, 0–19) of image and audio/video work is: libvips's threads (Linux) and ffmpeg's processes, so that captures and requests get contended cores first; 0 runs them at the gateway's priority", parse: (r) => parseInteger(r, 0, 19), fallback: () => 10 },
  { key: 'maxPixels', env: 'MEDIAGATE_MAX_PIXELS', defaultText: '50000000', describe: 'images (and video frames) with more pixels than this are not decoded: a decompression bomb fails its derivation, not the process', parse: (r) => parseInteger(r, 1, 1_000_000_000), fallback: () => 50_000_000 },
  { key: 'stripMetadata', env: 'MEDIAGATE_STRIP_METADATA', defaultText: '0', describe: "serve images' `/content` without EXIF, GPS or other metadata (1); the original stays stored and `?original=1` with the API key returns it", parse: parseBoolean, fallback: () => false },
  {
    key: 'clamav',
    env: 'MEDIAGATE_CLAMAV_URL',
    defaultText: '— (scanning off)',
    describe: 'clamd to scan every captured media with: `tcp://host:port` or `unix:/path/to/clamd.ctl`; unset, nothing is scanned. With it, a media is `stored` only after a clean scan',
    parse: (r) => {
      try {
        return parseClamdAddress(r)
      } catch (err) {
        throw new ConfigValueError((err as Error).message)
      }
    },
    fallback: () => undefined,
  },
  { key: 'clamavOversize', env: 'MEDIAGATE_CLAMAV_OVERSIZE', defaultText: 'fail', describe: "media larger than clamd's stream limit: `fail` (failed, `too_large_to_scan`) or `pass` (stored unscanned, its scan `skipped`)", parse: (r) => parseChoice(r, OVERSIZE_CHOICES), fallback: () => 'fail' },
  { key: 'clamavTimeoutMs', env: 'MEDIAGATE_CLAMAV_TIMEOUT_MS', defaultText: '30000', describe: 'longest wait for clamd to accept a connection or say anything during a scan; past it the scan is retried later', parse: (r) => parseInteger(r, 100, 600_000), fallback: () => 30_000 },
  { key: 'clamavStreamMaxBytes', env: 'MEDIAGATE_CLAMAV_STREAM_MAX_BYTES', defaultText: '26214400', describe: "clamd's `StreamMaxLength` (its default is 25M): set both together; larger media follow MEDIAGATE_CLAMAV_OVERSIZE", parse: (r) => parseInteger(r, 1, 2 ** 32 - 1), fallback: () => 26_214_400 },
  {
    key: 'sandbox',
    env: 'MEDIAGATE_SANDBOX',
    defaultText: 'auto',
    describe:
      'sandbox mode (built-in Meta emulator): `auto` only for `--role all` with no Meta secret, access token, Graph URL, config file, database or storage configured; 1 forces it (refused with any of those but a local SQLite/disk path); 0 never',
    parse: (r) => (r.trim().toLowerCase() === 'auto' ? undefined : parseBoolean(r)),
    fallback: (c) => sandboxConflicts(c, 'auto').length === 0,
    uses: ['appSecrets', 'accessToken', 'graphUrl', 'databaseUrl', 'storageUrl', 'configFile', 'role'],
  },
]

/** The options behind these keys and those their defaults derive from, in OPTIONS order. */
export function optionsFor(keys: readonly OptionKey[]): OptionSpec[] {
  const wanted = new Set<OptionKey>()
  const add = (key: OptionKey) => {
    if (wanted.has(key)) return
    wanted.add(key)
    for (const used of OPTIONS.find((o) => o.key === key)?.uses ?? []) add(used)
  }
  keys.forEach(add)
  return OPTIONS.filter((o) => wanted.has(o.key))
}
