/**
 * Sandbox mode: with nothing of Meta configured, `mediagate serve` starts the built-in Meta
 * emulator, generates the secrets, points the gateway at the emulator and says so loudly. A
 * newcomer sees the whole flow (signed webhook → capture → stored → served) without a Meta
 * account. The sandbox talks to the emulator and nothing else: its token and secret are its own,
 * its downloads may go to the emulator alone, and it runs on local storage only.
 */
import { randomBytes } from 'node:crypto'
import { type Config, sandboxConflicts } from '../config/options.js'
import { MediagateError } from '../errors.js'
import { type Emulator, startEmulator } from '../emulator/index.js'

export interface Sandbox {
  config: Readonly<Config>
  emulator: Emulator
  /** What to print: how to send a sample message and where to fetch the result. */
  banner(gatewayUrl: string): string
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/

export async function startSandbox(config: Readonly<Config>): Promise<Sandbox> {
  if (!LOOPBACK.test(config.host)) {
    throw new MediagateError('invalid_config', `MEDIAGATE_HOST: sandbox mode listens on loopback only, got ${config.host}; set META_APP_SECRET to run for real`)
  }
  // loadConfig refuses these already; a library caller handing in its own Config gets the same answer.
  const conflicts = sandboxConflicts(config, 'forced')
  if (conflicts.length > 0) {
    throw new MediagateError('invalid_config', `MEDIAGATE_SANDBOX: sandbox mode cannot run with ${conflicts.join(', ')} set; unset ${conflicts.length > 1 ? 'them' : 'it'}, or set MEDIAGATE_SANDBOX=0`)
  }
  const secret = (bytes: number) => randomBytes(bytes).toString('base64url')
  const accessToken = `sandbox-${secret(24)}`
  const appSecret = secret(24)
  const emulator = await startEmulator({ host: '127.0.0.1', port: 0, accessToken, appSecret })
  const emulatorHost = new URL(emulator.url).hostname
  const sandboxConfig: Config = {
    ...config,
    appSecrets: [appSecret],
    verifyToken: config.verifyToken ?? secret(12),
    accessToken,
    apiKey: config.apiKey ?? `mgk_${secret(24)}`,
    graphUrl: emulator.url,
    // The emulator alone: a real Meta URL replayed into the sandbox must not be fetched with the
    // sandbox's token (nor at all) — the sandbox is not Meta and must not reach it.
    allowedHosts: [emulatorHost],
    sandbox: true,
  }
  // A key the user chose is theirs to know; only a generated one is printed.
  const shownKey = config.apiKey ? '$MEDIAGATE_API_KEY' : sandboxConfig.apiKey
  return {
    config: Object.freeze(sandboxConfig),
    emulator,
    banner(gatewayUrl) {
      const target = `${gatewayUrl}/webhooks/meta`
      const send = (platform: string, kind: string) =>
        `  curl -s -X POST ${emulator.url}/_emulator/send -H 'content-type: application/json' -d '{"platform":"${platform}","kind":"${kind}","target":"${target}"}'`
      return [
        '',
        '==================================================================================',
        '  SANDBOX MODE: nothing of Meta is configured, so mediagate talks to its built-in Meta',
        '  emulator, not to Meta, and downloads from the emulator only. Nothing here reaches',
        '  the internet. Set META_APP_SECRET, META_VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN and',
        '  MEDIAGATE_API_KEY to run for real.',
        '==================================================================================',
        `  gateway:   ${gatewayUrl}`,
        `  emulator:  ${emulator.url}`,
        `  API key:   ${shownKey}`,
        '',
        '  Send a sample WhatsApp image and a Messenger video through the emulator:',
        send('whatsapp', 'image'),
        send('messenger', 'video'),
        '',
        '  Then list what was captured and fetch the bytes:',
        `  curl -s -H "authorization: Bearer ${shownKey}" ${gatewayUrl}/v1/media`,
        `  curl -s -H "authorization: Bearer ${shownKey}" ${gatewayUrl}/v1/media/<id>/content -o media.bin`,
        '==================================================================================',
        '',
      ].join('\n')
    },
  }
}
