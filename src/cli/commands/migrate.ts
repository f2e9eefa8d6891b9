/** `mediagate migrate`: apply catalog migrations (serve also does this at start). */
import { Command } from 'commander'
import { addConfigOptions, configFromCommand } from '../config-flags.js'
import { withCatalog } from '../open-parts.js'

export function migrateCommand(): Command {
  const command = new Command('migrate').description('apply pending catalog migrations and exit')
  addConfigOptions(command)
  command.action(async () => {
    const config = configFromCommand(command)
    await withCatalog(config, async (catalog) => {
      process.stdout.write(`catalog (${catalog.dialect}) is up to date\n`)
    })
  })
  return command
}
