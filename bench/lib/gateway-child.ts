/**
 * Starts the gateway (gateway-process.ts) in a child process on a fresh data directory, with
 * SQLite and the disk blob store (the defaults), and the secrets the bench signs and calls with.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { benchScript, type Child, startChild } from './child.js'
import { type BenchContext, profileArgs } from './context.js'
import { loopbackUrl } from './loopback.js'

export const APP_SECRET = 'bench-app-secret-0123456789'
export const API_KEY = 'bench-api-key-0123456789abcdef'
export const ACCESS_TOKEN = 'bench-access-token-0123456789'

export interface GatewayChild {
  readonly url: string
  readonly pid: number
  readonly dataDir: string
  readonly child: Child<{ url: string }>
  stop(): Promise<void>
  /** Stops it and deletes its data directory (large runs would otherwise fill the disk). */
  discard(): Promise<void>
}

export interface GatewayChildOptions {
  /** Names the log file and the profile. */
  label: string
  /** MEDIAGATE_* and META_* overrides, e.g. `MEDIAGATE_ROLE: 'api'`. */
  env?: Record<string, string>
  /** The emulator the gateway downloads from (sets META_GRAPH_URL and the allowlist). */
  emulatorUrl?: string
}

export async function startGateway(ctx: BenchContext, o: GatewayChildOptions): Promise<GatewayChild> {
  const dataDir = await mkdtemp(path.join(ctx.workDir, `gw-${o.label}-`))
  const emulator: Record<string, string> = o.emulatorUrl
    ? { META_GRAPH_URL: o.emulatorUrl, MEDIAGATE_ALLOWED_HOSTS: new URL(o.emulatorUrl).hostname, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN }
    : {}
  const child = await startChild<{ url: string }>(benchScript('lib/gateway-process.js'), {
    name: `gateway (${o.label})`,
    logFile: path.join(ctx.workDir, `gateway-${o.label}.log`),
    execArgv: profileArgs(ctx, `gateway-${o.label}`),
    env: {
      MEDIAGATE_HOST: '127.0.0.1',
      MEDIAGATE_PORT: '0',
      MEDIAGATE_DATA_DIR: dataDir,
      META_APP_SECRET: APP_SECRET,
      MEDIAGATE_API_KEY: API_KEY,
      MEDIAGATE_SANDBOX: '0',
      MEDIAGATE_LOG_LEVEL: 'info',
      ...emulator,
      ...o.env,
    },
  })
  const url = loopbackUrl(child.ready.url)
  return {
    url,
    pid: child.pid,
    dataDir,
    child,
    stop: () => child.stop(),
    async discard() {
      await child.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
