/**
 * `mediagate capture`: stores lazy media (MEDIAGATE_POLICY_WHATSAPP=lazy) before their WhatsApp
 * media id expires (7 days after receipt). Run it from cron, e.g. hourly with `--due-within 24h`;
 * a running gateway is not needed. Each media is resolved, downloaded, verified and stored, then
 * served from the store like eagerly captured media.
 */
import { Command, Option } from 'commander'
import type { BlobStore } from '../../blobs/blob-store.js'
import { captureLazy } from '../../capture/capture-lazy.js'
import { openConfiguredBlobStore } from '../../config/backends.js'
import type { Config } from '../../config/options.js'
import { MediagateError, toMediagateError } from '../../errors.js'
import { Fetcher } from '../../fetch/index.js'
import { createLogger } from '../../logging/logger.js'
import { GraphMediaClient } from '../../platforms/graph/index.js'
import { Eraser } from '../../retention/eraser.js'
import { USER_AGENT } from '../../version.js'
import { addConfigOptions, configFromCommand } from '../config-flags.js'
import { withCatalog } from '../open-parts.js'
import { startProgress } from '../progress.js'

/** Where a command writes its report; stdout by default, a collector in tests. */
export interface CommandOutput {
  write(text: string): unknown
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `90m`, `24h`, `7d`, `3600s` → milliseconds. */
export function parseDuration(raw: string): number {
  const match = /^(\d{1,6})\s*([smhd])$/.exec(raw.trim())
  if (!match) throw new MediagateError('bad_request', `"${raw}" is not a duration such as 90m, 24h or 7d`)
  return Number(match[1]) * UNITS[match[2]!]!
}

/**
 * Opens the blob store without `init()`: init clears unfinished uploads, and a gateway running
 * beside this command may be in the middle of one.
 */
export async function withSharedBlobs<T>(config: Readonly<Config>, fn: (blobs: BlobStore) => Promise<T>): Promise<T> {
  const blobs = await openConfiguredBlobStore(config, createLogger('warn', process.stderr as never))
  try {
    return await fn(blobs)
  } finally {
    await blobs.close()
  }
}

export interface CaptureRun {
  captured: number
  failed: number
}

export function captureCommand(out: CommandOutput = process.stdout): Command {
  const command = new Command('capture')
    .description('store lazy media whose WhatsApp media id expires soon (or the listed ones)')
    .argument('[ids...]', 'only these media ids')
    .addOption(new Option('--due-within <duration>', 'media whose id expires within this time (e.g. 24h, 90m, 6d)').default('24h'))
    .option('--limit <n>', 'at most this many media per run', '1000')
  addConfigOptions(command)
  command.action(async (ids: string[]) => {
    const opts = command.opts<{ dueWithin: string; limit: string }>()
    const dueWithinMs = parseDuration(opts.dueWithin)
    const limit = wholeNumber(opts.limit, '--limit', 10_000)
    const config = configFromCommand(command)
    // MEDIAGATE_CONCURRENCY (--concurrency) sets the downloads at once, as for the worker.
    const run = await captureDue(config, { dueWithinMs, limit, concurrency: config.concurrency, ...(ids.length > 0 ? { ids } : {}) }, out)
    if (run.failed > 0) throw new MediagateError('upstream', `${run.failed} of ${run.captured + run.failed} media could not be captured (see above)`)
  })
  return command
}

export async function captureDue(
  config: Readonly<Config>,
  options: { dueWithinMs: number; limit: number; concurrency: number; ids?: string[] },
  out: CommandOutput,
): Promise<CaptureRun> {
  const logger = createLogger('warn', process.stderr as never)
  const fetcher = new Fetcher({ allowedHosts: config.allowedHosts, userAgent: USER_AGENT, headersTimeoutMs: config.downloadTimeoutMs, bodyTimeoutMs: config.downloadTimeoutMs })
  const graph = config.accessToken ? new GraphMediaClient({ graphUrl: config.graphUrl, version: config.graphVersion, accessToken: config.accessToken, fetcher }) : undefined
  try {
    return await withCatalog(config, (catalog) =>
      withSharedBlobs(config, async (blobs) => {
        const due = await catalog.listLazyDue({ expiresBefore: new Date(Date.now() + options.dueWithinMs), limit: options.limit, ...(options.ids ? { ids: options.ids } : {}) })
        const eraser = new Eraser({ catalog, blobs, logger })
        const deps = { catalog, capture: { blobs, fetcher, graph, maxBytes: config.maxBytes }, discardBlobs: async (keys: string[]) => void (await eraser.releaseBlobs(keys)) }
        const run: CaptureRun = { captured: 0, failed: 0 }
        const queue = [...due]
        const signal = new AbortController().signal
        const progress = startProgress('capture', due.length)
        await Promise.all(
          Array.from({ length: Math.min(options.concurrency, queue.length) }, async () => {
            for (let media = queue.shift(); media; media = queue.shift()) {
              try {
                const stored = await captureLazy(media, deps, signal)
                run.captured += 1
                out.write(`stored ${stored.id} (${stored.size} bytes, sha256 ${stored.sha256})\n`)
              } catch (err) {
                const e = toMediagateError(err)
                run.failed += 1
                out.write(`failed ${media.id}: ${e.code}: ${e.message}\n`)
              }
              progress.increment()
            }
          }),
        ).finally(() => progress.stop())
        out.write(`captured ${run.captured} lazy media${run.failed > 0 ? `, ${run.failed} failed` : ''}\n`)
        return run
      }),
    )
  } finally {
    await fetcher.close()
  }
}

function wholeNumber(raw: string, flag: string, max: number): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new MediagateError('bad_request', `${flag} must be a whole number from 1 to ${max}`)
  return n
}
