/**
 * `mediagate doctor`: checks what a running gateway depends on and says what to fix. Exits 1
 * when a check fails. Never prints a secret, only whether it is set.
 */
import { Readable } from 'node:stream'
import { Command } from 'commander'
import { openConfiguredBlobStore, openConfiguredCatalog } from '../../config/backends.js'
import type { Config } from '../../config/options.js'
import { toMediagateError } from '../../errors.js'
import { Fetcher } from '../../fetch/index.js'
import { silentLogger } from '../../logging/logger.js'
import { GraphMediaClient } from '../../platforms/graph/index.js'
import { USER_AGENT } from '../../version.js'
import { addConfigOptions, configFromCommand } from '../config-flags.js'

type Outcome = { ok: boolean; warn?: boolean; detail: string }

export function doctorCommand(): Command {
  const command = new Command('doctor').description('check configuration, catalog, blob store, Graph API access and secrets; print what to fix')
  addConfigOptions(command)
  command.action(async () => {
    let config: Readonly<Config>
    try {
      config = configFromCommand(command)
      print('configuration', { ok: true, detail: 'valid' })
    } catch (err) {
      print('configuration', { ok: false, detail: toMediagateError(err).message })
      process.exitCode = 1
      return
    }
    const results = [
      ['secrets', checkSecrets(config)],
      ['catalog', await checkCatalog(config)],
      ['blob store', await checkBlobs(config)],
      ['graph api', await checkGraph(config)],
    ] as const
    for (const [name, outcome] of results) print(name, outcome)
    if (results.some(([, o]) => !o.ok)) process.exitCode = 1
  })
  return command
}

function print(name: string, o: Outcome): void {
  const mark = !o.ok ? 'FAIL' : o.warn ? 'WARN' : ' ok '
  process.stdout.write(`[${mark}] ${name.padEnd(14)} ${o.detail}\n`)
}

function checkSecrets(config: Readonly<Config>): Outcome {
  if (config.sandbox) return { ok: true, warn: true, detail: 'sandbox mode: META_APP_SECRET is unset, serve will generate secrets and use the built-in emulator' }
  const missing = [
    config.appSecrets.length === 0 && 'META_APP_SECRET (webhook signatures cannot be checked)',
    !config.verifyToken && 'META_VERIFY_TOKEN (the webhook handshake will be refused)',
    !config.apiKey && 'MEDIAGATE_API_KEY (the /v1 API is closed)',
  ].filter(Boolean)
  if (missing.length > 0) return { ok: false, detail: `set ${missing.join('; ')}` }
  return { ok: true, detail: `app secret(s): ${config.appSecrets.length}, verify token and API key set` }
}

async function checkCatalog(config: Readonly<Config>): Promise<Outcome> {
  try {
    const catalog = await openConfiguredCatalog(config, silentLogger())
    try {
      await catalog.ping()
      await catalog.migrate()
      const counts = await catalog.counts()
      const total = counts.reduce((n, c) => n + c.count, 0)
      return { ok: true, detail: `${catalog.dialect}: reachable, migrated, ${total} media` }
    } finally {
      await catalog.close()
    }
  } catch (err) {
    return { ok: false, detail: `${toMediagateError(err, 'catalog').message} — check MEDIAGATE_DATABASE_URL` }
  }
}

async function checkBlobs(config: Readonly<Config>): Promise<Outcome> {
  try {
    const blobs = await openConfiguredBlobStore(config, silentLogger())
    try {
      await blobs.init()
      const probe = Buffer.from(`mediagate doctor probe ${Date.now()}`)
      const put = await blobs.put(Readable.from([probe]))
      const back = await blobs.stat(put.key)
      await blobs.delete(put.key)
      if (back?.size !== probe.length) return { ok: false, detail: 'wrote a probe blob but could not read it back' }
      return { ok: true, detail: `${blobs.kind}: writable and readable` }
    } finally {
      await blobs.close()
    }
  } catch (err) {
    return { ok: false, detail: `${toMediagateError(err, 'storage').message} — check MEDIAGATE_STORAGE_URL and its credentials` }
  }
}

async function checkGraph(config: Readonly<Config>): Promise<Outcome> {
  if (config.sandbox) return { ok: true, warn: true, detail: 'sandbox mode: the emulator stands in for the Graph API' }
  if (!config.accessToken) return { ok: true, warn: true, detail: 'WHATSAPP_ACCESS_TOKEN is unset: WhatsApp media cannot be captured (Messenger/Instagram can)' }
  const fetcher = new Fetcher({ allowedHosts: config.allowedHosts, userAgent: USER_AGENT, headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000 })
  try {
    const graph = new GraphMediaClient({ graphUrl: config.graphUrl, version: config.graphVersion, accessToken: config.accessToken, fetcher })
    const me = await graph.me()
    return { ok: true, detail: `${config.graphUrl} ${config.graphVersion}: token valid (app/user id ${me.id})` }
  } catch (err) {
    const e = toMediagateError(err)
    const hint = e.code === 'auth' ? 'renew WHATSAPP_ACCESS_TOKEN' : e.code === 'host_not_allowed' || e.code === 'address_refused' ? 'add the Graph host to MEDIAGATE_ALLOWED_HOSTS' : 'check META_GRAPH_URL and the network'
    return { ok: false, detail: `${e.code}: ${e.message} — ${hint}` }
  } finally {
    await fetcher.close()
  }
}
