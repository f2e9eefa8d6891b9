/** `mediagate retry`: put failed media back in the queue (after fixing a token, say). */
import { Command, Option } from 'commander'
import type { MediaFilter } from '../../catalog/catalog.js'
import { MediagateError } from '../../errors.js'
import { type MediaRecord, PLATFORMS, type Platform } from '../../media/record.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { retryRefusal } from '../../media/retry-rules.js'
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
    const { count, refused } = await withParts(config, { catalog: 'write' }, async ({ catalog }) => {
      // Named ids are looked at first, so each one that cannot be requeued is reported with why.
      const records = await Promise.all(ids.map((id) => catalog.get(id)))
      const refused = ids.flatMap((id, i) => {
        const why = notRetryable(records[i], opts)
        return why ? [{ id, why, unknown: records[i] === undefined }] : []
      })
      return { count: await catalog.requeue(filter), refused }
    })
    process.stdout.write(`requeued ${count} media${count > 0 ? '; a running gateway picks them up within a second' : ''}\n`)
    for (const { id, why } of refused) process.stderr.write(`not requeued ${id}: ${why}\n`)
    if (refused.length > 0) {
      const code = refused.every((r) => r.unknown) ? 'not_found' : 'conflict'
      throw new MediagateError(code, `${refused.length} of ${ids.length} media were not requeued (see above)`)
    }
  })
  return command
}

/** Why a named record is not requeued by these filters; undefined when it is. */
function notRetryable(media: MediaRecord | undefined, opts: { code?: string; platform?: Platform }): string | undefined {
  if (!media) return 'no such media'
  const refusal = retryRefusal(media)
  if (refusal !== undefined) return refusal
  if (opts.code && media.error?.code !== opts.code) return `it failed with ${media.error?.code ?? 'no code'}, not ${opts.code}`
  if (opts.platform && media.platform !== opts.platform) return `it is a ${media.platform} media, not ${opts.platform}`
  return undefined
}
