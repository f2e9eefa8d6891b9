/**
 * Sandbox mode: with nothing of Meta configured, `mediagate serve` starts the built-in Meta
 * emulator, generates the secrets, points the gateway at the emulator and says so loudly. A
 * newcomer sees the whole flow (signed webhook → capture → stored → served) without a Meta
 * account. The sandbox talks to the emulator and nothing else: its token and secret are its own,
 * its downloads may go to the emulator alone, and it runs on local storage only.
 */
import path from 'node:path'
import { type Config, sandboxConflicts } from '../config/options.js'
import { MediagateError } from '../errors.js'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { IDENTITY_FILE, loadIdentity, type SandboxIdentity, saveIdentity } from './sandbox-identity.js'

export interface Sandbox {
  config: Readonly<Config>
  emulator: Emulator
  /** What to print: how to send a sample message and where to fetch the result. */
  banner(gatewayUrl: string): string
}

/** Where, under the data directory, the sandbox's emulator keeps its media across restarts. */
export const EMULATOR_STATE_DIR = 'emulator'

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
  // Reused from the last run (sandbox-identity.ts): the newcomer's commands keep working across restarts.
  const { identity } = loadIdentity(config.dataDir)
  const emulator = await startOnSavedPort(identity, path.join(config.dataDir, EMULATOR_STATE_DIR))
  identity.emulatorPort = Number(new URL(emulator.url).port)
  saveIdentity(config.dataDir, identity)
  const { accessToken, appSecret } = identity
  const emulatorHost = new URL(emulator.url).hostname
  const sandboxConfig: Config = {
    ...config,
    appSecrets: [appSecret],
    verifyToken: config.verifyToken ?? identity.verifyToken,
    accessToken,
    apiKey: config.apiKey ?? identity.apiKey,
    graphUrl: emulator.url,
    // The emulator alone: a real Meta URL replayed into the sandbox must not be fetched with the
    // sandbox's token (nor at all) — the sandbox is not Meta and must not reach it.
    allowedHosts: [emulatorHost],
    sandbox: true,
  }
  // A key or token the user chose is theirs to know; what the sandbox made up is printed.
  const shownKey = config.apiKey ? '$MEDIAGATE_API_KEY' : sandboxConfig.apiKey!
  const shownVerify = config.verifyToken ? '$META_VERIFY_TOKEN' : sandboxConfig.verifyToken!
  // What a CLI command beside the sandbox needs to talk to its emulator and check its signatures.
  const cliEnv = [
    `MEDIAGATE_DATA_DIR=${config.dataDir}`,
    `META_GRAPH_URL=${emulator.url}`,
    `WHATSAPP_ACCESS_TOKEN=${accessToken}`,
    `MEDIAGATE_ALLOWED_HOSTS=${emulatorHost}`,
    `META_APP_SECRET=${appSecret}`,
    `MEDIAGATE_API_KEY=${shownKey}`,
  ].join(' ')
  const cli = cliInvocation()
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
        `  gateway:      ${gatewayUrl}`,
        `  dashboard:    ${gatewayUrl}/  (sign in with the API key)`,
        `  emulator:     ${emulator.url}`,
        `  API key:      ${shownKey}`,
        `  app secret:   ${appSecret}`,
        `  verify token: ${shownVerify}`,
        `  access token: ${accessToken}`,
        `  These are saved in ${path.join(config.dataDir, IDENTITY_FILE)} and reused at the next start;`,
        `  the emulator's media are kept in ${path.join(config.dataDir, EMULATOR_STATE_DIR)}, so pending media survive a restart.`,
        '',
        '  Send a sample WhatsApp image and a Messenger video through the emulator:',
        send('whatsapp', 'image'),
        send('messenger', 'video'),
        '',
        '  Then list what was captured and fetch the bytes:',
        `  curl -s -H "authorization: Bearer ${shownKey}" ${gatewayUrl}/v1/media`,
        `  curl -s -H "authorization: Bearer ${shownKey}" ${gatewayUrl}/v1/media/<id>/content -o media.bin`,
        '',
        "  Meta's subscription handshake, and the CLI against the emulator (from this directory):",
        `  curl -s '${gatewayUrl}/webhooks/meta?hub.mode=subscribe&hub.verify_token=${shownVerify}&hub.challenge=42'`,
        `  ${cliEnv} ${cli} fetch <source_media_id of a WhatsApp record> -o media.bin`,
        `  ${cliEnv} ${cli} replay payload.json --signature "sha256=$(openssl dgst -sha256 -hmac '${appSecret}' -hex < payload.json | awk '{print $NF}')"`,
        '==================================================================================',
        '',
      ].join('\n')
    },
  }
}

/** The emulator on the port of the last run when it is free, else on a new one (saved for next time). */
async function startOnSavedPort(identity: SandboxIdentity, stateDir: string): Promise<Emulator> {
  // Its media kept in the data directory: media still pending when the sandbox stopped are
  // captured after the restart, as they would be from Meta (the same ids and signed URLs).
  const options = { host: '127.0.0.1', accessToken: identity.accessToken, appSecret: identity.appSecret, stateDir }
  if (identity.emulatorPort > 0) {
    try {
      return await startEmulator({ ...options, port: identity.emulatorPort })
    } catch (err) {
      // startEmulator reports a port it cannot have as invalid_config, with the listen error as its cause.
      const cause = (err as { cause?: NodeJS.ErrnoException }).cause
      if (cause?.code !== 'EADDRINUSE') throw err
    }
  }
  return startEmulator({ ...options, port: 0 })
}

/**
 * How to run this same CLI from the directory the sandbox started in: `mediagate` from an
 * installed bin, `npx mediagate` from a project's node_modules, else `node <its main.js>` (a
 * clone started with `npm start`), where `npx mediagate` would first pack and build a copy of
 * the clone, minutes on a small machine, before running anything.
 */
export function cliInvocation(script = process.argv[1] ?? '', cwd = process.cwd()): string {
  const parts = script.split(path.sep)
  if (parts.includes('node_modules')) return 'npx mediagate'
  if (path.basename(script) === 'mediagate') return 'mediagate'
  const relative = path.relative(cwd, script)
  const shown = relative.startsWith('..') || path.isAbsolute(relative) ? script : relative
  return `node ${/^[\w./@+-]+$/.test(shown) ? shown : JSON.stringify(shown)}`
}
