#!/usr/bin/env node
/**
 * The `mediagate` command. Each subcommand lives in its own file under commands/. Errors end the
 * process with a one-line message (and code 1); configuration mistakes list every wrong value.
 */
import { Command } from 'commander'
import { isMediagateError } from '../errors.js'
import { VERSION } from '../version.js'
import { captureCommand } from './commands/capture.js'
import { deleteCommand } from './commands/delete.js'
import { deriveCommand } from './commands/derive.js'
import { doctorCommand } from './commands/doctor.js'
import { emulatorCommand } from './commands/emulator.js'
import { fetchCommand } from './commands/fetch.js'
import { uploadCommand } from './commands/upload.js'
import { forwardsCommand } from './commands/forwards.js'
import { lsCommand } from './commands/ls.js'
import { migrateCommand } from './commands/migrate.js'
import { migrateDataCommand } from './commands/migrate-data.js'
import { replayCommand } from './commands/replay.js'
import { retryCommand } from './commands/retry.js'
import { scanCommand } from './commands/scan.js'
import { serveCommand } from './commands/serve.js'
import { statusCommand } from './commands/status.js'
import { sweepCommand } from './commands/sweep.js'
import { verifyCommand } from './commands/verify.js'

const program = new Command('mediagate')
  .description('Self-hosted media gateway for WhatsApp, Messenger and Instagram webhooks')
  .version(VERSION)

for (const command of [serveCommand(), emulatorCommand(), fetchCommand(), replayCommand(), lsCommand(), retryCommand(), migrateCommand(), migrateDataCommand(), statusCommand(), doctorCommand(), verifyCommand(), deriveCommand(), captureCommand(), sweepCommand(), deleteCommand(), forwardsCommand(), scanCommand(), uploadCommand()]) {
  program.addCommand(command)
}
reportParseErrors(program, 'mediagate')

/**
 * Usage mistakes commander finds (an unknown flag, a missing argument, a bad choice) in the same
 * one-line form as every other error, pointing at the help of the command that was typed.
 * Commands added with addCommand do not inherit output settings, hence the walk.
 */
function reportParseErrors(command: Command, path: string): void {
  command.configureOutput({
    outputError: (text, write) => write(`mediagate: bad_request: ${text.replace(/^error: /, '').trim()} (see ${path} --help)\n`),
  })
  for (const sub of command.commands) reportParseErrors(sub, `${path} ${sub.name()}`)
}

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = isMediagateError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)
  process.stderr.write(`mediagate: ${message}\n`)
  process.exit(1)
})
