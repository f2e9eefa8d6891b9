/**
 * `mediagate replay <payload.json>`: feed a saved webhook body through intake, exactly as if Meta
 * had posted it. The signature is checked against META_APP_SECRET unless --skip-signature says
 * the operator vouches for the body. Redelivery rules apply: known media are not recorded twice.
 */
import { readFile } from 'node:fs/promises'
import { Command } from 'commander'
import { createGateway } from '../../gateway.js'
import { createLogger } from '../../logging/logger.js'
import { addConfigOptions, configFromCommand } from '../config-flags.js'

export function replayCommand(): Command {
  const command = new Command('replay')
    .description('feed a saved webhook body through intake (signature checked unless --skip-signature)')
    .argument('<payload>', 'file with the raw webhook body')
    .option('--signature <header>', 'the X-Hub-Signature-256 header that came with the body (sha256=…)')
    .option('--skip-signature', 'record without checking the signature (you vouch for the body)')
  addConfigOptions(command)
  command.action(async (file: string) => {
    const opts = command.opts<{ signature?: string; skipSignature?: boolean }>()
    const config = configFromCommand(command)
    const body = await readFile(file)
    // The gateway's own intake (not listening, no worker started), so storage policies, unsend
    // and forwarding apply exactly as for a webhook from Meta; a running worker captures.
    const gateway = await createGateway(config, { logger: createLogger('warn', process.stderr as never) })
    try {
      await gateway.catalog.migrate()
      const result = await gateway.intake.accept(body, { signature: opts.signature, skipSignature: opts.skipSignature === true })
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
  return command
}
