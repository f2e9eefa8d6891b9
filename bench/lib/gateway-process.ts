/**
 * The gateway as the bench runs it: `createGateway` in a process of its own, configured only
 * through the environment (as `mediagate serve` is), announcing its URL over IPC when listening.
 */
import { loadConfig } from '../../src/config/load-config.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import { serveParent } from './child-runtime.js'

let gateway: Gateway | undefined

serveParent<{ url: string }>({
  async start() {
    const config = loadConfig({ env: process.env })
    gateway = await createGateway(config)
    await gateway.start()
    return { url: gateway.url! }
  },
  async stop() {
    await gateway?.close()
  },
})
