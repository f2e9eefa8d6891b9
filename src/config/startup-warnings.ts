/**
 * What `mediagate serve` says at start about a configuration that runs but will not do what its
 * operator likely expects (what `mediagate doctor` would flag), instead of only "running". Hard
 * mistakes stop at start (load-config.ts); these are the soft ones. Never a secret's value.
 */
import { loadAccountTokens } from './config-file.js'
import type { Config } from './options.js'

export interface StartupWarning {
  /** The setting to look at. */
  setting: string
  message: string
}

export function startupWarnings(config: Readonly<Config>): StartupWarning[] {
  if (config.sandbox) return []
  const warnings: StartupWarning[] = []
  const intake = config.role !== 'worker'
  const worker = config.role !== 'api'
  if (intake && !config.verifyToken) {
    warnings.push({ setting: 'META_VERIFY_TOKEN', message: "META_VERIFY_TOKEN is unset: Meta's webhook subscription handshake (GET /webhooks/meta with hub.challenge) will be refused, so Meta cannot subscribe this URL" })
  }
  if (worker && config.policyWhatsapp === 'eager' && !config.accessToken && whatsappNumbers(config) === 0) {
    warnings.push({ setting: 'WHATSAPP_ACCESS_TOKEN', message: 'WHATSAPP_ACCESS_TOKEN is unset and mediagate.config.json gives no WhatsApp number a token: every WhatsApp media will fail with `auth`' })
  }
  if (config.forwardUrl && !config.publicUrl) {
    warnings.push({ setting: 'MEDIAGATE_PUBLIC_URL', message: `MEDIAGATE_FORWARD_URL is set without MEDIAGATE_PUBLIC_URL: the content links in forwards point at the address mediagate listens on (${config.host}:${config.port}), which your app may not reach` })
  }
  return warnings
}

function whatsappNumbers(config: Readonly<Config>): number {
  try {
    return loadAccountTokens(config.configFile).whatsapp.size
  } catch {
    // A broken file stops the gateway when its parts open; that message is the one to read.
    return 1
  }
}
