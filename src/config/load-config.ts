/**
 * Loads the configuration once at start: flag, then environment variable, then default.
 * Every wrong value is reported at once, each with its variable name; the result is frozen.
 * The database and storage URLs are parsed here too, so a wrong one stops any command at start
 * rather than when (or if) it opens the catalog or the blob store.
 */
import { parseStorageUrl, type StorageTarget } from '../blobs/open-blob-store.js'
import { type DatabaseTarget, parseDatabaseUrl } from '../catalog/database-url.js'
import { MediagateError } from '../errors.js'
import { loadAccountTokens } from './config-file.js'
import { type Config, OPTIONS, type OptionKey, type OptionSpec, optionsFor, sandboxConflicts } from './options.js'

/** `MEDIAGATE_DATA_DIR` → `data-dir`; `META_APP_SECRET` → `meta-app-secret`. */
export function flagName(option: Pick<OptionSpec, 'env'>): string {
  return option.env.replace(/^MEDIAGATE_/, '').toLowerCase().replace(/_/g, '-')
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv
  /** Values from command-line flags, keyed by flag name (see `flagName`). */
  flags?: Record<string, string | undefined>
  /**
   * Read only these options (what a command uses) and those their defaults derive from; every
   * other option keeps its default whatever the environment says, and is not checked. Default: all.
   */
  only?: readonly OptionKey[]
}

export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const env = sources.env ?? process.env
  const flags = sources.flags ?? {}
  const read = new Set((sources.only ? optionsFor(sources.only) : OPTIONS).map((o) => o.key))
  const partial: Partial<Config> = {}
  const problems: string[] = []
  for (const option of OPTIONS) {
    const raw = read.has(option.key) ? (flags[flagName(option)] ?? env[option.env]) : undefined
    let value: unknown
    if (raw !== undefined && raw !== '') {
      try {
        value = option.parse(raw)
      } catch (err) {
        problems.push(`${option.env}: ${(err as Error).message}`)
        continue
      }
    }
    ;(partial as Record<string, unknown>)[option.key] = value === undefined ? option.fallback(partial) : value
  }
  const { databaseUrl, storageUrl } = partial
  const database = databaseUrl === undefined ? undefined : target(() => parseDatabaseUrl(databaseUrl), problems)
  const storage = storageUrl === undefined ? undefined : target(() => parseStorageUrl(storageUrl), problems)
  const config = { ...partial, database, storage } as Config
  problems.push(...crossChecks(config, read))
  if (problems.length > 0) {
    throw new MediagateError('invalid_config', `invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
  return Object.freeze({ ...config, appSecrets: Object.freeze([...config.appSecrets]), allowedHosts: Object.freeze([...config.allowedHosts]) })
}

/** Parses a backend URL; its messages already name the variable. */
function target<T extends DatabaseTarget | StorageTarget>(parse: () => T, problems: string[]): T | undefined {
  try {
    return parse()
  } catch (err) {
    problems.push((err as Error).message)
    return undefined
  }
}

/** Checks between options, each only where the command reads the options it is about. */
function crossChecks(config: Config, read: ReadonlySet<OptionKey>): string[] {
  const problems: string[] = []
  if (read.has('sandbox') && config.sandbox) {
    // Only MEDIAGATE_SANDBOX=1 gets here with a conflict: `auto` stays off whenever there is one.
    const conflicts = sandboxConflicts(config, 'forced')
    if (conflicts.length > 0) {
      problems.push(
        `MEDIAGATE_SANDBOX: sandbox mode replaces Meta with the built-in emulator (generated token and secret, local SQLite and disk, one whole gateway) and cannot run with ${conflicts.join(', ')} set; unset ${conflicts.length > 1 ? 'them' : 'it'}, or set MEDIAGATE_SANDBOX=0 to run for real`,
      )
    }
  }
  if (read.has('sandbox') && !config.sandbox) {
    if (read.has('appSecrets') && config.appSecrets.length === 0 && config.role !== 'worker') {
      problems.push(
        'META_APP_SECRET: required outside sandbox mode (webhooks must be signed); sandbox mode starts by itself only for --role all with no Meta secret, access token, Graph URL, config file, database or storage configured',
      )
    }
    if (read.has('apiKey') && !config.apiKey && config.role !== 'worker') {
      problems.push('MEDIAGATE_API_KEY: required outside sandbox mode (the /v1 API needs a key)')
    }
    if (config.role === 'worker' && ['accessToken', 'configFile', 'policyWhatsapp'].every((k) => read.has(k as OptionKey))) {
      problems.push(...workerTokenProblems(config))
    }
  }
  if (config.apiKey !== undefined && config.apiKey.length < 16) {
    problems.push('MEDIAGATE_API_KEY: must be at least 16 characters')
  }
  return problems
}

/**
 * A worker captures WhatsApp media through Graph, which needs a token: without one, every
 * WhatsApp media it claims ends `failed` (auth). Better to stop at start, saying what to set.
 */
function workerTokenProblems(config: Config): string[] {
  if (config.policyWhatsapp !== 'eager' || config.accessToken !== undefined) return []
  let numbers: number
  try {
    numbers = loadAccountTokens(config.configFile).whatsapp.size
  } catch (err) {
    // The file's own message names the file and the entry, never a token.
    return [(err as Error).message]
  }
  if (numbers > 0) return []
  return [
    'WHATSAPP_ACCESS_TOKEN: required by a worker (--role worker captures WhatsApp media, MEDIAGATE_POLICY_WHATSAPP=eager); set it, or give each number its token in mediagate.config.json (MEDIAGATE_CONFIG_FILE)',
  ]
}
