/** `mediagate retry`: put failed media back in the queue (after fixing a token, say). */
import { Command, Option } from 'commander'
import type { MediaFilter } from '../../catalog/catalog.js'
import { MediagateError } from '../../errors.js'
import { PLATFORMS, type Platform } from '../../media/record.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'

export function retryCommand(): Command {
  const command = new Command('retry')
    .description('requeue failed media: by id, or every failed one matching the filters')
    .argument('[ids...]', 'media ids')
    .addOption(new Option('--status <status>', 'only failed media can be retried').choices(['failed']).default('failed'))
    .option('--code <code>', 'only media that failed with this error code (e.g. auth)')
    .addOption(new Option('--platform <platform>').choices(PLATFORMS))
  addConfigOptions(command, READS.catalog)
  command.action(async (ids: string[]) => {
    const opts = command.opts<{ code?: string; platform?: Platform }>()
    if (ids.length === 0 && !opts.code && !opts.platform && !process.argv.includes('--status')) {
      throw new MediagateError('bad_request', 'name media ids, or select with --status failed [--code CODE] [--platform P]')
    }
    const config = configFromCommand(command)
    const filter: MediaFilter & { ids?: string[] } = {
      status: 'failed',
      ...(ids.length > 0 ? { ids } : {}),
      ...(opts.code ? { errorCode: opts.code } : {}),
      ...(opts.platform ? { platform: opts.platform } : {}),
    }
    const count = await withParts(config, { catalog: 'write' }, ({ catalog }) => catalog.requeue(filter))
    process.stdout.write(`requeued ${count} media; a running gateway picks them up within a second\n`)
  })
  return command
}
