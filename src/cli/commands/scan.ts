/**
 * `mediagate scan [--since DATE]`: rescans stored media with clamd (new signatures find old
 * malware), with a progress bar on a terminal; what is now infected is quarantined (the record
 * turns `failed`/`infected`) and the user's app gets the forward again. `--release ID` puts back
 * a false positive after review. Exit code 1 when something infected was found.
 */
import { Command } from 'commander'
import { MediagateError } from '../../errors.js'
import { releaseInfected, rescanStored } from '../../scanning/rescan.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { startTtyProgress } from '../progress.js'
import { withParts } from '../with-parts.js'
import type { CommandOutput } from './capture.js'

export function scanCommand(out: CommandOutput = process.stdout): Command {
  const command = new Command('scan')
    .description('rescan stored media for malware (MEDIAGATE_CLAMAV_URL) and quarantine what is now infected; or --release a false positive')
    .option('--since <date>', 'only media received since this date or time (ISO 8601, e.g. 2026-12-01)')
    .option('--release <id>', 'put back an infected media after review (a false positive): its bytes leave quarantine and it is stored again')
  addConfigOptions(command, [...READS.catalog, ...READS.blobs, ...READS.scanner])
  command.action(async () => {
    const { since, release } = command.opts<{ since?: string; release?: string }>()
    const config = configFromCommand(command)
    if (release !== undefined) {
      if (since !== undefined) throw new MediagateError('bad_request', '--release and --since do not go together')
      const media = await withParts(config, { catalog: 'write', blobs: 'shared' }, ({ catalog, blobs, eraser }) =>
        releaseInfected({ catalog, blobs, discardBlobs: (keys) => eraser.discard(keys) }, release),
      )
      out.write(`released ${media.id}: stored again (${media.scan?.signature ?? 'no signature'} was a false positive)\n`)
      return
    }
    const from = since === undefined ? undefined : parseSince(since)
    if (!config.clamav) throw new MediagateError('invalid_config', 'MEDIAGATE_CLAMAV_URL (or --clamav-url) is not set: there is no clamd to scan with')
    const report = await withParts(config, { catalog: 'write', blobs: 'shared' }, async ({ catalog, blobs, scanner }) => {
      const progress = startTtyProgress('scan', 0)
      try {
        return await rescanStored({ catalog, blobs, scanner: scanner! }, from ? { since: from } : {}, {
          total: (n) => progress.setTotal(n),
          scanned(outcome) {
            progress.increment()
            for (const m of outcome.infected) out.write(`infected: ${m.id} (${outcome.signature ?? '?'}) → quarantined, now failed\n`)
            if (outcome.result === 'missing') out.write(`missing: ${outcome.blobKey} (not scanned; see mediagate verify)\n`)
            if (outcome.result === 'too_large') out.write(`not scanned, larger than clamd's limit: ${outcome.blobKey}\n`)
          },
        })
      } finally {
        progress.stop()
      }
    })
    out.write(
      `scanned ${report.blobs} blobs of ${report.media} stored media: ${report.clean} clean, ${report.infected.length} media infected, ${report.skipped + report.tooLarge} too large to scan, ${report.missing} missing` +
        (report.forwards > 0 ? `; ${report.forwards} forwards queued to tell your app` : '') +
        '\n',
    )
    if (report.infected.length > 0) process.exitCode = 1
  })
  return command
}

function parseSince(raw: string): Date {
  const at = Date.parse(raw)
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(at)) throw new MediagateError('bad_request', `--since must be an ISO 8601 date or time (2026-12-01, 2026-12-01T10:00:00Z), got "${raw}"`)
  return new Date(at)
}
