/** `mediagate emulator`: run the Meta emulator on its own, to develop against offline. */
import { randomBytes } from 'node:crypto'
import { Command } from 'commander'
import { MediagateError } from '../../errors.js'
import { startEmulator } from '../../emulator/index.js'

export function emulatorCommand(): Command {
  const command = new Command('emulator')
    .description('run the Meta emulator (Graph media API, CDN, signed webhook sender) on loopback')
    .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '8090')
    .option('--access-token <token>', 'Bearer token it requires [env WHATSAPP_ACCESS_TOKEN, default generated]')
    .option('--app-secret <secret>', 'secret it signs webhooks with [env META_APP_SECRET, default generated]')
    .option('--latency-ms <ms>', 'wait before the first byte of every Graph and CDN response', '0')
    .option('--url-ttl-ms <ms>', 'WhatsApp download URL lifetime', String(5 * 60_000))
    .option('--webhook-target <url>', 'where /_emulator/send posts webhooks by default')
    .option('--state-dir <dir>', 'keep media, messages and the URL signing key in this directory across restarts (default: in memory only)')
  command.action(async () => {
    const o = command.opts<{ host: string; port: string; accessToken?: string; appSecret?: string; latencyMs: string; urlTtlMs: string; webhookTarget?: string; stateDir?: string }>()
    if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(o.host)) {
      throw new MediagateError('invalid_config', `--host: the emulator listens on loopback only, got ${o.host}`)
    }
    const generated = !(o.accessToken ?? process.env.WHATSAPP_ACCESS_TOKEN)
    const accessToken = o.accessToken ?? process.env.WHATSAPP_ACCESS_TOKEN ?? `emu-${randomBytes(18).toString('base64url')}`
    const appSecret = o.appSecret ?? process.env.META_APP_SECRET ?? randomBytes(18).toString('base64url')
    const emulator = await startEmulator({
      host: o.host,
      port: Number(o.port),
      accessToken,
      appSecret,
      latencyMs: Number(o.latencyMs),
      urlTtlMs: Number(o.urlTtlMs),
      ...(o.webhookTarget ? { webhookTarget: o.webhookTarget } : {}),
      ...(o.stateDir ? { stateDir: o.stateDir } : {}),
    })
    process.stderr.write(
      [
        `Meta emulator on ${emulator.url}`,
        `  point mediagate at it: META_GRAPH_URL=${emulator.url} MEDIAGATE_ALLOWED_HOSTS=${new URL(emulator.url).hostname}`,
        o.stateDir ? `  media kept in ${o.stateDir} (pass the same --access-token next time, for WhatsApp lookups)` : '  media kept in memory only (--state-dir keeps them across restarts)',
        generated ? `  generated WHATSAPP_ACCESS_TOKEN=${accessToken} META_APP_SECRET=${appSecret}` : '  using the token and app secret from your environment',
        `  send a signed webhook: curl -X POST ${emulator.url}/_emulator/send -H 'content-type: application/json' -d '{"platform":"whatsapp","kind":"image","target":"http://127.0.0.1:8080/webhooks/meta"}'`,
        '',
      ].join('\n'),
    )
    const stop = () => void emulator.close().then(() => process.exit(0))
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  return command
}
