// The whole gateway in your own process: same configuration as `mediagate serve`, no CLI.
import { createGateway, type Gateway, loadConfig } from '../src/index.js'

export async function startEmbeddedGateway(env: Record<string, string>): Promise<Gateway> {
  const config = loadConfig({ env: { MEDIAGATE_PORT: '0', ...env } })
  const gateway = await createGateway(config)
  await gateway.start() // migrates, listens on gateway.url, starts the capture worker
  return gateway // later: await gateway.close()
}
