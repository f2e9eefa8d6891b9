/**
 * `mediagate sweep`: one retention pass by hand (the worker runs one every 15 minutes): deletes
 * media older than MEDIAGATE_RETENTION_DAYS (per platform: MEDIAGATE_RETENTION_DAYS_<PLATFORM>),
 * finishes blob deletions an earlier blob store failure left unfinished, and removes orphan blobs
 * (no record uses them, written over an hour ago). It scans for orphans however recently the
 * workers did (it was asked for by hand), and its scan counts as the deployment's: the workers'
 * next one comes an interval later.
 */
import { Command } from 'commander'
import { PLATFORMS } from '../../media/record.js'
import { retentionRules } from '../../retention/retention-rules.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'
import type { CommandOutput } from './capture.js'

export function sweepCommand(out: CommandOutput = process.stdout): Command {
  const command = new Command('sweep').description('delete media past their retention now, finish unfinished blob deletions, remove orphan blobs')
  addConfigOptions(command, [...READS.catalog, ...READS.blobs, ...READS.retention])
  command.action(async () => {
    const config = configFromCommand(command)
    const rules = retentionRules(config)
    // Shared: a gateway running beside this command may be in the middle of a put.
    const result = await withParts(config, { catalog: 'write', blobs: 'shared' }, (parts) => parts.sweeper().runOnce(new Date(), { forceOrphanScan: true }))
    const kept = PLATFORMS.filter((p) => rules[p] === undefined)
    for (const platform of PLATFORMS) {
      if (rules[platform] !== undefined) out.write(`${platform}: deleted ${result.deleted[platform] ?? 0} media older than ${rules[platform]} days\n`)
    }
    if (kept.length > 0) out.write(`${kept.join(', ')}: no retention set, kept forever\n`)
    out.write(`blobs removed: ${result.blobsDeleted}\n`)
    out.write(`orphan blobs removed (no record used them): ${result.orphansDeleted}\n`)
  })
  return command
}
