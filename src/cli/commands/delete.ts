/**
 * `mediagate delete <id…>`: erases media as `DELETE /v1/media/{id}` does: the bytes go (the
 * blob too, unless another record shares it) and a tombstone (`status: deleted`) stays.
 */
import { Command } from 'commander'
import { MediagateError } from '../../errors.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'
import type { CommandOutput } from './capture.js'

export function deleteCommand(out: CommandOutput = process.stdout): Command {
  const command = new Command('delete').description('delete media by id, keeping a tombstone for audit').argument('<ids...>', 'media ids')
  addConfigOptions(command, [...READS.catalog, ...READS.blobs])
  command.action(async (ids: string[]) => {
    const config = configFromCommand(command)
    // Shared: a gateway running beside this command may be in the middle of a put.
    const tombstones = await withParts(config, { catalog: 'write', blobs: 'shared' }, (parts) => parts.eraser.erase(ids))
    for (const t of tombstones) out.write(`deleted ${t.id} (${t.platform} ${t.kind}, deleted at ${t.deletedAt?.toISOString() ?? '?'})\n`)
    const found = new Set(tombstones.map((t) => t.id))
    const missing = [...new Set(ids)].filter((id) => !found.has(id))
    if (missing.length > 0) throw new MediagateError('not_found', `no media with id ${missing.join(', ')}`)
  })
  return command
}
