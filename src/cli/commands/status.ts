/** `mediagate status`: counts by status and platform, the oldest pending media, recent failures. */
import { Command } from 'commander'
import { MediagateError } from '../../errors.js'
import { explainErrorCode } from '../../media/failure-explanations.js'
import { MEDIA_STATUSES, PLATFORMS } from '../../media/record.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'
import { printTable } from './ls.js'

export function statusCommand(): Command {
  const command = new Command('status')
    .description('counts by status and platform, oldest pending media, recent failures by code')
    .option('--since <hours>', 'window for "recent", in hours', '24')
    .option('--json', 'print the summary as JSON')
  addConfigOptions(command, READS.catalog)
  command.action(async () => {
    const opts = command.opts<{ since: string; json?: boolean }>()
    const hours = Number(opts.since)
    if (!Number.isFinite(hours) || hours <= 0) throw new MediagateError('bad_request', '--since must be a positive number of hours')
    const config = configFromCommand(command)
    const summary = await withParts(config, { catalog: 'read' }, ({ catalog }) => catalog.summary(new Date(Date.now() - hours * 3_600_000)))
    if (opts.json) {
      // The API's conventions: snake_case keys, ISO times.
      const json = {
        counts: summary.counts,
        oldest_pending_at: summary.oldestPendingAt?.toISOString() ?? null,
        since: summary.since.toISOString(),
        stored_since: summary.storedSince,
        failed_since: summary.failedSince,
      }
      process.stdout.write(`${JSON.stringify(json)}\n`)
      return
    }
    const statuses = MEDIA_STATUSES
    const rows = PLATFORMS.map((platform) => [
      platform,
      ...statuses.map((status) => String(summary.counts.find((c) => c.platform === platform && c.status === status)?.count ?? 0)),
    ])
    printTable(['PLATFORM', ...statuses.map((s) => s.toUpperCase())], rows)
    const oldest = summary.oldestPendingAt
    process.stdout.write(`\noldest pending: ${oldest ? `${oldest.toISOString()} (${Math.round((Date.now() - oldest.getTime()) / 1000)} s ago)` : 'none'}\n`)
    process.stdout.write(`last ${hours} h: ${summary.storedSince} stored, ${summary.failedSince.reduce((n, f) => n + f.count, 0)} failed\n`)
    // Each code with what it means (the dashboard's failure summary), so the line says what to look at.
    for (const f of summary.failedSince) process.stdout.write(`  ${f.code.padEnd(18)} ${String(f.count).padEnd(6)} ${explainErrorCode(f.code).summary}\n`)
  })
  return command
}
