/** `mediagate serve`: the gateway (intake, capture worker, API), or sandbox mode when nothing of Meta is configured. */
import { Command } from 'commander'
import { createGateway, gatewayInternals } from '../../gateway.js'
import { startupWarnings } from '../../config/startup-warnings.js'
import { startSandbox } from '../../sandbox/start-sandbox.js'
import { ALL_OPTIONS, addConfigOptions, configFromCommand } from '../config-flags.js'
import { startTracing } from '../../tracing/index.js'

export function serveCommand(): Command {
  const command = new Command('serve').description('run the gateway: webhook intake, capture worker and API (sandbox mode, on the built-in emulator, for --role all with nothing of Meta configured)')
  addConfigOptions(command, ALL_OPTIONS)
  command.action(async () => {
    let config = configFromCommand(command)
    // Before the gateway, whose logger adds trace ids to its lines only when tracing is on.
    const tracing = await startTracing()
    const sandbox = config.sandbox ? await startSandbox(config) : undefined
    if (sandbox) config = sandbox.config
    const gateway = await createGateway(config)
    await gateway.start()
    if (sandbox) {
      process.stderr.write(sandbox.banner(gateway.url!))
    }
    const { logger } = gatewayInternals(gateway).parts
    for (const warning of startupWarnings(config)) logger.warn({ setting: warning.setting }, warning.message)
    let closing = false
    const shutdown = async (signal: string) => {
      if (closing) return
      closing = true
      logger.info({ signal }, 'shutting down')
      await gateway.close()
      await sandbox?.emulator.close()
      await tracing.shutdown().catch(() => undefined)
      process.exit(0)
    }
    process.on('SIGINT', () => void shutdown('SIGINT'))
    process.on('SIGTERM', () => void shutdown('SIGTERM'))
  })
  return command
}
