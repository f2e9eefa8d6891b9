/**
 * `mediagate capture`: stores lazy media (MEDIAGATE_POLICY_WHATSAPP=lazy) before their WhatsApp
 * media id expires (7 days after receipt). Run it from cron, e.g. hourly with `--due-within 24h`;
 * a running gateway is not needed. Each media is resolved (with its number's token), downloaded,
 * verified and stored, then served from the store like eagerly captured media. With malware
 * scanning on (MEDIAGATE_CLAMAV_URL), each is scanned before it becomes stored, as the gateway
 * does: infected media end failed (quarantined), and clamd down leaves them remote for the next run.
 */
import { parseDuration as parseConfigDuration } from '../../config/parsers.js'
import { Command, Option } from 'commander'
import { captureLazy, type LazyCaptureDeps } from '../../capture/capture-lazy.js'
import { DEFAULT_RETRY_POLICY } from '../../capture/retry-policy.js'
import type { Config } from '../../config/options.js'
import { MediagateError, toMediagateError } from '../../errors.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { startProgress } from '../progress.js'
import { withParts } from '../with-parts.js'

/** Where a command writes its report; stdout by default, a collector in tests. */
export interface CommandOutput {
  write(text: string): unknown
}

/** `90m`, `24h`, `7d`, `3600s` → milliseconds; a `bad_request` naming the flag otherwise. */
export function parseDuration(raw: string, flag = '--due-within'): number {
  try {
    return parseConfigDuration(raw)
  } catch (err) {
    throw new MediagateError('bad_request', `${flag} ${(err as Error).message}`)
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
  // MEDIAGATE_CONCURRENCY (--concurrency) sets the downloads at once, as for the worker.
  addConfigOptions(command, [...READS.catalog, ...READS.blobs, ...READS.graph, ...READS.download, ...READS.scanner, 'concurrency'])
  command.action(async (ids: string[]) => {
    const opts = command.opts<{ dueWithin: string; limit: string }>()
    const dueWithinMs = parseDuration(opts.dueWithin)
    const limit = wholeNumber(opts.limit, '--limit', 10_000)
    const config = configFromCommand(command)
    const run = await captureDue(config, { dueWithinMs, limit, concurrency: config.concurrency, ...(ids.length > 0 ? { ids } : {}) }, out)
    if (run.failed > 0) throw new MediagateError('upstream', `${run.failed} of ${run.captured + run.failed} media could not be captured (see above)`)
  })
  return command
}

export function captureDue(
  config: Readonly<Config>,
  options: { dueWithinMs: number; limit: number; concurrency: number; ids?: string[] },
  out: CommandOutput,
): Promise<CaptureRun> {
  // Shared blobs: a gateway running beside this command may be in the middle of a put.
  return withParts(config, { catalog: 'write', blobs: 'shared' }, async (parts) => {
    const { catalog } = parts
    const due = await catalog.listLazyDue({ expiresBefore: new Date(Date.now() + options.dueWithinMs), limit: options.limit, ...(options.ids ? { ids: options.ids } : {}) })
    const deps: LazyCaptureDeps = {
      catalog,
      blobs: parts.blobs,
      sources: parts.sources,
      leaser: parts.leaser,
      discardBlobs: (keys) => parts.eraser.discard(keys).then(() => {}),
      enqueue: parts.storedTasks,
      // Infected media found here are told to the app by the gateway's forwarder, from the outbox.
      ...(parts.scanner ? { scan: { scanner: parts.scanner, blobs: parts.blobs, catalog, retry: DEFAULT_RETRY_POLICY, onQuarantined: (records) => void resend(records) } } : {}),
    }
    const resend = (records: { webhookId: string | null }[]) =>
      catalog.resendForwards(records.flatMap((r) => (r.webhookId === null ? [] : [r.webhookId]))).catch((err: unknown) => {
        out.write(`queueing forwards about infected media failed: ${toMediagateError(err).message}\n`)
      })
    const run: CaptureRun = { captured: 0, failed: 0 }
    const queue = [...due]
    const signal = new AbortController().signal
    const progress = startProgress('capture', due.length)
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, queue.length) }, async () => {
        for (let media = queue.shift(); media; media = queue.shift()) {
          try {
            const record = await captureLazy(media, deps, signal)
            if (record.status === 'stored') {
              run.captured += 1
              out.write(`stored ${record.id} (${record.size} bytes, sha256 ${record.sha256}${deps.scan && record.scan ? `, scan ${record.scan.status}` : ''})\n`)
            } else {
              run.failed += 1
              out.write(`failed ${record.id}: ${record.error?.code ?? record.status}: ${record.error?.message ?? ''}\n`)
            }
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
  })
}

function wholeNumber(raw: string, flag: string, max: number): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new MediagateError('bad_request', `${flag} must be a whole number from 1 to ${max}`)
  return n
}
