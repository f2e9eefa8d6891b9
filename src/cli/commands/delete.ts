/**
 * `mediagate delete <id…>`: erases media as `DELETE /v1/media/{id}` does: the bytes go (the
 * blob too, unless another record shares it) and a tombstone (`status: deleted`) stays.
 * `mediagate delete --sender X [--platform P]` erases every media of one person, as
 * `POST /v1/erasures` does.
 */
import { Command } from 'commander'
import { MediagateError } from '../../errors.js'
import { PLATFORMS, type Platform } from '../../media/record.js'
import { eraseSender } from '../../retention/erase-sender.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'
import type { CommandOutput } from './capture.js'

export function deleteCommand(out: CommandOutput = process.stdout): Command {
  const command = new Command('delete')
    .description('delete media by id, or every media of one sender, keeping tombstones for audit')
    .argument('[ids...]', 'media ids')
    .option('--sender <id>', "erase every media of this sender: a phone number, BSUID, PSID or IGSID (a data-subject erasure)")
    .option('--platform <platform>', `with --sender: only this platform (${PLATFORMS.join(', ')})`)
  addConfigOptions(command, [...READS.catalog, ...READS.blobs])
  command.action(async (ids: string[]) => {
    const config = configFromCommand(command)
    const { sender, platform } = command.opts<{ sender?: string; platform?: string }>()
    if (sender !== undefined || platform !== undefined) {
      if (ids.length > 0 || sender === undefined || sender.trim() === '') throw new MediagateError('bad_request', 'give either media ids or --sender <id> (with an optional --platform), not both')
      if (platform !== undefined && !(PLATFORMS as readonly string[]).includes(platform)) throw new MediagateError('bad_request', `--platform must be one of ${PLATFORMS.join(', ')}`)
      const request = { sender: sender.trim(), ...(platform !== undefined ? { platform: platform as Platform } : {}) }
      const erased = await withParts(config, { catalog: 'write', blobs: 'shared' }, (parts) => eraseSender(request, parts))
      out.write(`erased ${erased} media of sender ${request.sender}${platform ? ` on ${platform}` : ''}\n`)
      return
    }
    if (ids.length === 0) throw new MediagateError('bad_request', 'give the ids of the media to delete, or --sender <id>')
    // Shared: a gateway running beside this command may be in the middle of a put.
    const tombstones = await withParts(config, { catalog: 'write', blobs: 'shared' }, (parts) => parts.eraser.erase(ids))
    for (const t of tombstones) out.write(`deleted ${t.id} (${t.platform} ${t.kind}, deleted at ${t.deletedAt?.toISOString() ?? '?'})\n`)
    const found = new Set(tombstones.map((t) => t.id))
    const missing = [...new Set(ids)].filter((id) => !found.has(id))
    if (missing.length > 0) throw new MediagateError('not_found', `no media with id ${missing.join(', ')}`)
  })
  return command
}
