/**
 * `mediagate upload FILE [--whatsapp ID | --messenger ID | --instagram ID] [--voice]`: stores a
 * file as outbound media and, with an account, gets its Meta handle (uploaded once, cached).
 * Prints the record id, and the handle when one was asked for.
 */
import { Command } from 'commander'
import { MediagateError } from '../../errors.js'
import type { Platform } from '../../media/record.js'
import { uploadWithParts } from '../../outbound/upload.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'

export function uploadCommand(): Command {
  const command = new Command('upload')
    .description('store a file as outbound media; with an account, upload it to Meta once and print its handle')
    .argument('<file>', 'the file to store')
    .option('--whatsapp <phone_number_id>', 'get a WhatsApp media id for this number')
    .option('--messenger <page_id>', 'get a reusable Messenger attachment id for this page')
    .option('--instagram <ig_id>', 'get a reusable Instagram attachment id for this account')
    .option('--voice', 'send audio as a voice note (mono OGG/Opus)')
    .option('--type <mime>', "the file's type (default: sniffed from its bytes)")
  addConfigOptions(command, [...READS.catalog, ...READS.blobs, ...READS.graph, ...READS.download, ...READS.derive, ...READS.scanner, 'handleMarginHours'])
  command.action(async (file: string) => {
    const o = command.opts<{ whatsapp?: string; messenger?: string; instagram?: string; voice?: boolean; type?: string }>()
    const accounts = (['whatsapp', 'messenger', 'instagram'] as const).filter((p) => o[p] !== undefined)
    if (accounts.length > 1) throw new MediagateError('bad_request', 'give at most one of --whatsapp, --messenger, --instagram')
    const platform: Platform | undefined = accounts[0]
    const accountId = platform ? o[platform]! : undefined
    if (accountId !== undefined && !/^[0-9]{1,32}$/.test(accountId)) throw new MediagateError('bad_request', `--${platform} must be a numeric id, got "${accountId}"`)
    if (o.voice && !platform) throw new MediagateError('bad_request', '--voice needs an account (--whatsapp, --messenger or --instagram)')
    const config = configFromCommand(command)
    await withParts(config, { catalog: 'write', blobs: 'shared' }, async (parts) => {
      const result = await uploadWithParts(parts, file, {
        ...(o.type ? { mimeType: o.type } : {}),
        ...(platform && accountId ? { handle: { platform, accountId, ...(o.voice ? { voice: true } : {}) } } : {}),
      })
      process.stdout.write(`${result.media.id}${result.handle ? `\t${result.handle.handle.handle}` : ''}\n`)
    })
  })
  return command
}
