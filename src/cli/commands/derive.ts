/**
 * `mediagate derive [--since DATE] [--kind K]`: makes thumbnails, previews and facts for stored
 * media that lack them (media stored before derivation existed, or while it was off), in this
 * process at MEDIAGATE_DERIVE_CONCURRENCY, with a progress bar. Media already complete are
 * skipped, so it can be run again; a running gateway may derive the same media meanwhile (same
 * bytes, same blobs: harmless).
 */
import { Command, Option } from 'commander'
import { MediagateError, toMediagateError } from '../../errors.js'
import { MEDIA_KINDS, type MediaKind, type MediaRecord } from '../../media/record.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { startProgress } from '../progress.js'
import { withParts } from '../with-parts.js'

const PAGE = 500

export function deriveCommand(): Command {
  const command = new Command('derive')
    .description('make thumbnails, previews and media facts for stored media that lack them (a backfill)')
    .option('--since <date>', 'only media received at or after this date (ISO 8601, e.g. 2026-01-31)')
    .addOption(new Option('--kind <kind>', 'only media of this kind').choices(MEDIA_KINDS))
  addConfigOptions(command, [...READS.catalog, ...READS.blobs, ...READS.derive])
  command.action(async () => {
    const opts = command.opts<{ since?: string; kind?: MediaKind }>()
    const since = opts.since === undefined ? undefined : new Date(opts.since)
    if (since && Number.isNaN(since.getTime())) throw new MediagateError('bad_request', `--since must be a date such as 2026-01-31, got ${JSON.stringify(opts.since)}`)
    const config = configFromCommand(command)
    const totals = await withParts(config, { catalog: 'write', blobs: 'shared' }, async (parts) => {
      const { catalog } = parts
      const todo: MediaRecord[] = []
      for (let cursor: string | undefined; ; ) {
        const page = await catalog.list({ status: 'stored', ...(opts.kind ? { kind: opts.kind } : {}), ...(since ? { receivedAfter: since } : {}) }, { limit: PAGE, ...(cursor ? { cursor } : {}) })
        todo.push(...page.data)
        if (!page.nextCursor) break
        cursor = page.nextCursor
      }
      if (!parts.ffmpeg) process.stderr.write('ffmpeg is not installed: audio and video are skipped (install ffmpeg, or set MEDIAGATE_FFMPEG)\n')
      const progress = startProgress('derive', todo.length)
      const signal = new AbortController().signal
      const counts = { done: 0, skipped: 0, failed: 0, complete: 0, errors: 0 }
      try {
        await Promise.all(
          Array.from({ length: Math.min(config.deriveConcurrency, todo.length) }, async () => {
            for (let media = todo.shift(); media; media = todo.shift()) {
              try {
                const outcome = await parts.derivations.derive(media, signal)
                if (!outcome) counts.complete++
                else counts[outcome.status === 'pending' ? 'done' : outcome.status]++
                if (outcome?.error) process.stdout.write(`${media.id}: ${outcome.status}: ${outcome.error}\n`)
              } catch (err) {
                counts.errors++
                process.stdout.write(`${media.id}: failed: ${toMediagateError(err).message}\n`)
              }
              progress.increment()
            }
          }),
        )
      } finally {
        progress.stop()
      }
      return counts
    })
    process.stdout.write(
      `derived ${totals.done} media, ${totals.skipped} skipped (nothing to derive or no tool), ${totals.failed} failed (their error is on the record), ${totals.complete} already complete, ${totals.errors} errors\n`,
    )
    // A file that cannot be decoded is an outcome; a store or catalog that fails is an error.
    if (totals.errors > 0) process.exitCode = 1
  })
  return command
}
