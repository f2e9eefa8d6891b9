/**
 * `mediagate replay <payload.json>`: feed a saved webhook body through intake, exactly as if Meta
 * had posted it. The signature is checked against META_APP_SECRET unless --skip-signature says
 * the operator vouches for the body. Redelivery rules apply: known media are not recorded twice.
 */
import { readFile } from 'node:fs/promises'
import { Command } from 'commander'
import { createGateway, gatewayInternals } from '../../gateway.js'
import type { OptionKey } from '../../config/options.js'
import { createLogger } from '../../logging/logger.js'
import { ALL_OPTIONS, addConfigOptions, configFromCommand } from '../config-flags.js'
import { withParts } from '../with-parts.js'

const NOT_READ: ReadonlySet<OptionKey> = new Set<OptionKey>(['host', 'port', 'logLevel', 'logFormat'])

export function replayCommand(): Command {
  const command = new Command('replay')
    .description('feed a saved webhook body through intake (signature checked unless --skip-signature)')
    .argument('<payload>', 'file with the raw webhook body')
    .option('--signature <header>', 'the X-Hub-Signature-256 header that came with the body (sha256=…)')
    .option('--skip-signature', 'record without checking the signature (you vouch for the body)')
  // The gateway's intake as configured, without listening and with this command's own logger.
  addConfigOptions(command, ALL_OPTIONS.filter((key) => !NOT_READ.has(key)))
  command.action(async (file: string) => {
    const opts = command.opts<{ signature?: string; skipSignature?: boolean }>()
    const config = configFromCommand(command)
    const body = await readFile(file)
    // The gateway's own intake (not listening, no worker started), so storage policies, unsend
    // and forwarding apply exactly as for a webhook from Meta; a running worker captures. The
    // catalog must exist (`write`), and the blob store may be in use by that running gateway.
    const logger = createLogger('warn', process.stderr as never)
    await withParts(config, { catalog: 'write', blobs: 'shared', logger }, async (parts) => {
      const gateway = await createGateway(config, { catalog: parts.catalog, blobs: parts.blobs, logger })
      try {
        const result = await gatewayInternals(gateway).intake.accept(body, { signature: opts.signature, skipSignature: opts.skipSignature === true })
        if (!result.supported) {
          process.stdout.write(`object "${result.object}" is not handled by mediagate; nothing recorded\n`)
          return
        }
        process.stdout.write(`recorded ${result.created.length} new media, ${result.duplicates} already known\n`)
        for (const m of result.created) process.stdout.write(`${m.id}\t${m.platform}\t${m.kind}\t${m.status}\n`)
      } finally {
        await gateway.close()
      }
    })
  })
  return command
}
