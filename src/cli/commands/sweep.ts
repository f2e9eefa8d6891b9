/**
 * `mediagate sweep`: one retention pass by hand (the worker runs one every 15 minutes): deletes
 * media older than MEDIAGATE_RETENTION_DAYS (per platform: MEDIAGATE_RETENTION_DAYS_<PLATFORM>)
 * and finishes blob deletions an earlier blob store failure left unfinished.
 */
import { Command } from 'commander'
import { createLogger } from '../../logging/logger.js'
import { PLATFORMS } from '../../media/record.js'
import { Eraser } from '../../retention/eraser.js'
import { retentionRules } from '../../retention/retention-rules.js'
import { RetentionSweeper, type SweepResult } from '../../retention/sweeper.js'
import { addConfigOptions, configFromCommand } from '../config-flags.js'
import { withCatalog } from '../open-parts.js'
import { type CommandOutput, withSharedBlobs } from './capture.js'

export function sweepCommand(out: CommandOutput = process.stdout): Command {
  const command = new Command('sweep').description('delete media past their retention now, and finish unfinished blob deletions')
  addConfigOptions(command)
  command.action(async () => {
    const config = configFromCommand(command)
    const rules = retentionRules(config)
    const logger = createLogger('warn', process.stderr as never)
    const result: SweepResult = await withCatalog(config, (catalog) =>
      withSharedBlobs(config, (blobs) => new RetentionSweeper({ catalog, eraser: new Eraser({ catalog, blobs, logger }), logger, rules }).runOnce()),
    )
    const kept = PLATFORMS.filter((p) => rules[p] === undefined)
    for (const platform of PLATFORMS) {
      if (rules[platform] !== undefined) out.write(`${platform}: deleted ${result.deleted[platform] ?? 0} media older than ${rules[platform]} days\n`)
    }
    if (kept.length > 0) out.write(`${kept.join(', ')}: no retention set, kept forever\n`)
    out.write(`blobs removed: ${result.blobsDeleted}\n`)
  })
  return command
}
