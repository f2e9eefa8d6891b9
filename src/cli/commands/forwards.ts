/** `mediagate forwards`: the forwarding outbox (MEDIAGATE_FORWARD_URL): list, and retry failed forwards. */
import { Command, Option } from 'commander'
import type { ForwardStatus } from '../../catalog/catalog.js'
import { MediagateError } from '../../errors.js'
import { presentForward } from '../../serve/forwards-routes.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'

export function forwardsCommand(): Command {
  const command = new Command('forwards')
    .description('list forwards to your app (newest first); --retry puts failed ones (or the ids named) back in line')
    .argument('[ids...]', 'forward ids (with --retry)')
    .addOption(new Option('--status <status>', 'only forwards in this state').choices(['pending', 'sent', 'failed']))
    .option('--limit <n>', 'how many to list', '50')
    .option('--retry', 'retry failed forwards: the ids named, or every failed one')
    .option('--json', 'one JSON object per line, as the API returns them')
  addConfigOptions(command, READS.catalog)
  command.action(async (ids: string[]) => {
    const opts = command.opts<{ status?: ForwardStatus; limit: string; retry?: boolean; json?: boolean }>()
    const config = configFromCommand(command)
    if (opts.retry) {
      if (opts.status !== undefined && opts.status !== 'failed') throw new MediagateError('bad_request', 'only failed forwards can be retried')
      const retried = await withParts(config, { catalog: 'write' }, ({ catalog }) => catalog.retryForwards(ids.length > 0 ? ids : undefined))
      process.stdout.write(`requeued ${retried.length} forward(s); a running gateway sends them within a second\n`)
      return
    }
    if (ids.length > 0) throw new MediagateError('bad_request', 'forward ids go with --retry')
    const limit = Number(opts.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new MediagateError('bad_request', '--limit must be a whole number from 1 to 1000')
    const page = await withParts(config, { catalog: 'read' }, ({ catalog }) => catalog.listForwards(opts.status ? { status: opts.status } : {}, { limit }))
    for (const forward of page.data.map(presentForward)) {
      if (opts.json) process.stdout.write(`${JSON.stringify(forward)}\n`)
      else process.stdout.write(`${forward.id}  ${forward.status.padEnd(7)}  attempts ${String(forward.attempts).padStart(2)}  ${forward.created_at}  ${forward.webhook_id}${forward.last_error ? `  ${forward.last_error}` : ''}\n`)
    }
    if (!opts.json && page.data.length === 0) process.stdout.write('no forwards\n')
  })
  return command
}
