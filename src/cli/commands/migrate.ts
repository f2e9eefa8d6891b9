/** `mediagate migrate`: create the catalog or apply its pending migrations (serve also does this at start). */
import { Command } from 'commander'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'

export function migrateCommand(): Command {
  const command = new Command('migrate').description('create the catalog if it does not exist, apply pending migrations and exit')
  addConfigOptions(command, READS.catalog)
  command.action(async () => {
    const config = configFromCommand(command)
    await withParts(config, { catalog: 'create' }, async ({ catalog }) => {
      process.stdout.write(`catalog (${catalog.dialect}) is up to date\n`)
    })
  })
  return command
}
