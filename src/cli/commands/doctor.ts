/**
 * `mediagate doctor`: checks what a running gateway depends on and says what to fix. Exits 1
 * when a check fails. Never prints a secret, only whether it is set. The catalog is opened
 * read-only (a missing one is reported, not created); the blob store is prepared as the gateway
 * prepares it, and one probe blob is written, read back and deleted.
 */
import { Readable } from 'node:stream'
import { Command } from 'commander'
import { DEFAULT_CONFIG_FILE, loadAccountTokens } from '../../config/config-file.js'
import type { Config } from '../../config/options.js'
import { MediagateError, toMediagateError } from '../../errors.js'
import { silentLogger } from '../../logging/logger.js'
import { ALL_OPTIONS, addConfigOptions, configFromCommand } from '../config-flags.js'
import { withParts } from '../with-parts.js'
import { locateFfmpeg, runTool } from '../../derivatives/ffmpeg.js'
import { NO_CPU_PRESSURE, openCpuPressure } from '../../jobs/cpu-pressure.js'

type Outcome = { ok: boolean; warn?: boolean; detail: string }

const GRAPH_TIMEOUT_MS = 10_000

export function doctorCommand(): Command {
  const command = new Command('doctor').description('check configuration, catalog, blob store, Graph API access, the malware scanner and secrets; print what to fix')
  // It checks the configuration a gateway would run with: every option.
  addConfigOptions(command, ALL_OPTIONS)
  command.action(async () => {
    let config: Readonly<Config>
    try {
      config = configFromCommand(command)
      print('configuration', { ok: true, detail: 'valid' })
    } catch (err) {
      print('configuration', { ok: false, detail: toMediagateError(err).message })
      process.exitCode = 1
      return
    }
    const results = [
      ['secrets', checkSecrets(config)],
      ['tokens file', checkTokensFile(config)],
      ['catalog', await checkCatalog(config)],
      ['blob store', await checkBlobs(config)],
      ['graph api', await checkGraph(config)],
      ['derivatives', await checkDerivatives(config)],
      ['derive yield', checkDeriveYield(config)],
      ['scanner', await checkScanner(config)],
    ] as const
    for (const [name, outcome] of results) print(name, outcome)
    if (results.some(([, o]) => !o.ok)) process.exitCode = 1
  })
  return command
}

function print(name: string, o: Outcome): void {
  const mark = !o.ok ? 'FAIL' : o.warn ? 'WARN' : ' ok '
  process.stdout.write(`[${mark}] ${name.padEnd(14)} ${o.detail}\n`)
}

function checkSecrets(config: Readonly<Config>): Outcome {
  if (config.sandbox) return { ok: true, warn: true, detail: 'sandbox mode: META_APP_SECRET is unset, serve will generate secrets and use the built-in emulator' }
  const missing = [
    config.appSecrets.length === 0 && 'META_APP_SECRET (webhook signatures cannot be checked)',
    !config.verifyToken && 'META_VERIFY_TOKEN (the webhook handshake will be refused)',
    !config.apiKey && 'MEDIAGATE_API_KEY (the /v1 API is closed)',
  ].filter(Boolean)
  if (missing.length > 0) return { ok: false, detail: `set ${missing.join('; ')}` }
  return { ok: true, detail: `app secret(s): ${config.appSecrets.length}, verify token and API key set` }
}

/** ffmpeg for audio and video derivatives: a warning without it (images still work). */
async function checkDerivatives(config: Readonly<Config>): Promise<Outcome> {
  const where = config.derive ? 'thumbnails and facts in the background' : 'MEDIAGATE_DERIVE=0: made on demand only'
  const tools = locateFfmpeg(config.ffmpegPath)
  if (!tools) {
    const hint = config.ffmpegPath ? `${config.ffmpegPath} (or ffprobe beside it) is not an executable` : 'no ffmpeg and ffprobe on PATH'
    return { ok: true, warn: true, detail: `${where}; images work, but ${hint}: audio and video previews, posters and waveforms are skipped. Enable them: apt-get install ffmpeg (or set MEDIAGATE_FFMPEG)` }
  }
  try {
    const version = (await runTool(tools.ffmpeg, ['-version'], { timeoutMs: 10_000 })).toString('utf8').split('\n')[0] ?? ''
    return { ok: true, detail: `${where}; ${version.slice(0, 60)} at ${tools.ffmpeg}` }
  } catch (err) {
    return { ok: true, warn: true, detail: `${tools.ffmpeg} does not run (${toMediagateError(err).message}): audio and video derivatives are skipped` }
  }
}

/** mediagate.config.json: every part is opened after it is read, so a broken file stops them all. */
function checkTokensFile(config: Readonly<Config>): Outcome {
  try {
    const tokens = loadAccountTokens(config.configFile)
    const count = tokens.whatsapp.size + tokens.pages.size + tokens.noStorage.size
    if (count === 0) return { ok: true, detail: config.configFile ? `${config.configFile}: no tokens` : `no ${DEFAULT_CONFIG_FILE}: WHATSAPP_ACCESS_TOKEN serves every number` }
    const noStorage = tokens.noStorage.size > 0 ? `, ${tokens.noStorage.size} No-Storage number(s) (media must be captured within the hour)` : ''
    return { ok: true, detail: `${tokens.whatsapp.size} WhatsApp number(s), ${tokens.pages.size} page(s) with their own token${noStorage}` }
  } catch (err) {
    return { ok: false, detail: `${toMediagateError(err, 'invalid_config').message} — fix the file or MEDIAGATE_CONFIG_FILE` }
  }
}

/** Whether queued derivations can give way to bursts of captures here (MEDIAGATE_DERIVE_YIELD_PRESSURE). */
function checkDeriveYield(config: Readonly<Config>): Outcome {
  if (!config.derive) return { ok: true, detail: 'MEDIAGATE_DERIVE=0: no derivations are queued' }
  if (config.deriveYieldPressure === 0) return { ok: true, detail: 'off (MEDIAGATE_DERIVE_YIELD_PRESSURE=0): queued derivations run beside captures, at MEDIAGATE_TOOL_NICE only' }
  const pressure = openCpuPressure()
  if (!pressure) return { ok: true, warn: true, detail: NO_CPU_PRESSURE }
  return { ok: true, detail: `queued derivations wait while CPU pressure is ${config.deriveYieldPressure} % or more (${pressure.source}), for at most ${config.deriveYieldMaxMs / 1000} s` }
}

async function checkCatalog(config: Readonly<Config>): Promise<Outcome> {
  try {
    return await withParts(config, { catalog: 'read', logger: silentLogger() }, async ({ catalog }) => {
      await catalog.ping()
      const summary = await catalog.summary(new Date())
      const total = summary.counts.reduce((n, c) => n + c.count, 0)
      // Warnings, not failures: the gateway works, but it will slow down or miss media.
      const warnings = await catalog.serverWarnings()
      const near = summary.nearDeadline
      if (near.count > 0) {
        // Meta stops serving these media soon.
        const earliest = near.earliest ? `, the earliest at ${near.earliest.toISOString()}` : ''
        warnings.push(`${near.count} pending media are within an hour of their capture deadline${earliest} — is a worker running and capturing (mediagate status)?`)
      }
      const detail = [`${catalog.dialect}: reachable, ${total} media`, ...warnings].join('; ')
      return warnings.length > 0 ? { ok: true, warn: true, detail } : { ok: true, detail }
    })
  } catch (err) {
    const e = toMediagateError(err, 'catalog')
    // Nothing there yet is what a first `serve` (or `mediagate migrate`) fixes by creating it.
    if (e.code === 'not_found') return { ok: true, warn: true, detail: `${e.message} (serve creates it too)` }
    return { ok: false, detail: `${e.message} — check MEDIAGATE_DATABASE_URL` }
  }
}

async function checkBlobs(config: Readonly<Config>): Promise<Outcome> {
  try {
    // `own`: prepared as the gateway prepares it, which is part of what is checked.
    return await withParts(config, { blobs: 'own', logger: silentLogger() }, async ({ blobs }) => {
      const probe = Buffer.from(`mediagate doctor probe ${Date.now()}`)
      const put = await blobs.put(Readable.from([probe]))
      const back = await blobs.stat(put.key)
      await blobs.delete(put.key)
      if (back?.size !== probe.length) return { ok: false, detail: 'wrote a probe blob but could not read it back' }
      return { ok: true, detail: `${blobs.kind}: writable and readable` }
    })
  } catch (err) {
    return { ok: false, detail: `${toMediagateError(err, 'storage').message} — check MEDIAGATE_STORAGE_URL and its credentials` }
  }
}

async function checkGraph(config: Readonly<Config>): Promise<Outcome> {
  if (config.sandbox) return { ok: true, warn: true, detail: 'sandbox mode: the emulator stands in for the Graph API' }
  if (!config.accessToken) return { ok: true, warn: true, detail: 'WHATSAPP_ACCESS_TOKEN is unset: WhatsApp media cannot be captured (Messenger/Instagram can)' }
  try {
    const signal = AbortSignal.timeout(GRAPH_TIMEOUT_MS)
    return await withParts(config, { logger: silentLogger() }, async ({ graph }) => {
      const me = await graph.default!.me({ signal }).catch((err: unknown) => {
        throw signal.aborted ? new MediagateError('network', `Graph did not answer within ${GRAPH_TIMEOUT_MS / 1000} s`, { cause: err }) : err
      })
      return { ok: true, detail: `${config.graphUrl} ${config.graphVersion}: token valid (app/user id ${me.id})` }
    })
  } catch (err) {
    const e = toMediagateError(err)
    const hint = e.code === 'auth' ? 'renew WHATSAPP_ACCESS_TOKEN' : e.code === 'host_not_allowed' || e.code === 'address_refused' ? 'add the Graph host to MEDIAGATE_ALLOWED_HOSTS' : 'check META_GRAPH_URL and the network'
    return { ok: false, detail: `${e.code}: ${e.message} — ${hint}` }
  }
}

/** clamd answers PING, says its version, and scans a probe (clean bytes) over INSTREAM. */
async function checkScanner(config: Readonly<Config>): Promise<Outcome> {
  if (!config.clamav) return { ok: true, warn: true, detail: 'MEDIAGATE_CLAMAV_URL is unset: media are not scanned for malware' }
  try {
    return await withParts(config, { logger: silentLogger() }, async ({ scanner }) => {
      const signal = AbortSignal.timeout(config.clamavTimeoutMs)
      await scanner!.ping(signal)
      const engine = await scanner!.engine(signal)
      const probe = Buffer.from(`mediagate doctor probe ${Date.now()}`)
      const scan = await scanner!.scanBlob({ read: async () => Readable.from([probe]) }, 'probe', probe.length, signal)
      if (scan.status !== 'clean') return { ok: false, detail: `clamd at ${scanner!.target} found ${scan.signature ?? scan.status} in a harmless probe — check its signature database` }
      // `ClamAV <engine>/<signatures>/<date>`: without the last two, no official database is loaded.
      const official = engine.split('/').length >= 3
      return { ok: true, ...(official ? {} : { warn: true }), detail: `${scanner!.target}: ${engine}${official ? '' : ' (no official signatures: run freshclam)'}, oversize media ${config.clamavOversize === 'fail' ? 'fail' : 'pass unscanned'}` }
    })
  } catch (err) {
    const e = toMediagateError(err, 'scanner')
    return { ok: false, detail: `${e.code}: ${e.message} — start clamd, or check MEDIAGATE_CLAMAV_URL (media wait pending until it answers)` }
  }
}
