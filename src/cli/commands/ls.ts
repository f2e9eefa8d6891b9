/** `mediagate ls`: the newest media records, as a table or JSON lines. */
import { Command, Option } from 'commander'
import { MEDIA_STATUSES, PLATFORMS } from '../../media/record.js'
import { presentMedia } from '../../serve/present-media.js'
import { parseListQuery } from '../../serve/list-query.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'

export function lsCommand(): Command {
  const command = new Command('ls')
    .description('list media records, newest first')
    .addOption(new Option('--status <status>', 'only this status').choices(MEDIA_STATUSES))
    .addOption(new Option('--platform <platform>', 'only this platform').choices(PLATFORMS))
    .option('--message-id <id>', 'only media of this message')
    .option('--limit <n>', 'how many (1-1000)', '50')
    .option('--json', 'one JSON object per line, as the API returns them')
  addConfigOptions(command, READS.catalog)
  command.action(async () => {
    const opts = command.opts<{ status?: string; platform?: string; messageId?: string; limit: string; json?: boolean }>()
    const config = configFromCommand(command)
    const query = parseListQuery({
      limit: opts.limit,
      ...(opts.status ? { status: opts.status } : {}),
      ...(opts.platform ? { platform: opts.platform } : {}),
      ...(opts.messageId ? { message_id: opts.messageId } : {}),
    })
    await withParts(config, { catalog: 'read' }, async ({ catalog }) => {
      const page = await catalog.list(query.filter, { limit: query.limit })
      const rows = page.data.map(presentMedia)
      if (opts.json) {
        for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`)
        return
      }
      const table = rows.map((m) => [m.id, m.platform, m.kind, m.status, m.size === null ? '-' : String(m.size), m.error ? m.error.code : '', m.received_at])
      printTable(['ID', 'PLATFORM', 'KIND', 'STATUS', 'SIZE', 'ERROR', 'RECEIVED'], table)
    })
  })
  return command
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`)
}
