/**
 * Configuration options as flags of the same name (`MEDIAGATE_DATA_DIR` → `--data-dir`,
 * `META_APP_SECRET` → `--meta-app-secret`). Precedence: flag, environment, default.
 *
 * A command takes the options it reads and no other: its help lists only those, commander
 * rejects any other flag, and the environment variables of options it does not read are
 * ignored (a wrong MEDIAGATE_PORT does not stop `mediagate ls`), but for the backend URLs.
 */
import { type Command, Option } from 'commander'
import { flagName, loadConfig } from '../config/load-config.js'
import { type Config, OPTIONS, type OptionKey, optionsFor } from '../config/options.js'

/** What each part a command opens reads (see parts.ts); a command lists the parts it uses. */
export const READS = {
  /** The catalog: its URL (whose default lives in the data directory). */
  catalog: ['databaseUrl'],
  /** The blob store, as a command uses it (MEDIAGATE_S3_REDIRECT only matters for serving). */
  blobs: ['storageUrl', 's3Endpoint', 's3ForcePathStyle', 's3Region'],
  /** Downloads from Meta: the fetcher's allowlist, stall timeout and overall deadline, and the size cap. */
  download: ['allowedHosts', 'downloadTimeoutMs', 'downloadDeadlineMs', 'maxBytes'],
  /** The Graph clients: where Graph is and the tokens (global, and per number from the config file). */
  graph: ['graphUrl', 'graphVersion', 'accessToken', 'configFile'],
  /** Making derivatives: the tools, their limits, and what is made. */
  derive: ['deriveConcurrency', 'deriveYieldPressure', 'deriveYieldMaxMs', 'ffmpegPath', 'ffmpegTimeoutMs', 'ffmpegThreads', 'toolNice', 'maxPixels', 'stripMetadata', 'derive'],
  /** The malware scanner (clamd). */
  scanner: ['clamav', 'clamavOversize', 'clamavTimeoutMs', 'clamavStreamMaxBytes'],
  /** Retention rules. */
  retention: ['retentionDays', 'retentionDaysWhatsapp', 'retentionDaysMessenger', 'retentionDaysInstagram'],
} as const satisfies Record<string, readonly OptionKey[]>

export const ALL_OPTIONS: readonly OptionKey[] = OPTIONS.map((o) => o.key)

/**
 * Checked for every command, from the environment, whether it opens them or not: a deployment
 * with a wrong database or storage URL hears about it from whichever command runs first.
 */
const CHECKED_EVERYWHERE: readonly OptionKey[] = ['databaseUrl', 'storageUrl']

const commandKeys = new WeakMap<Command, readonly OptionKey[]>()

export function addConfigOptions(command: Command, keys: readonly OptionKey[]): Command {
  commandKeys.set(command, keys)
  for (const option of optionsFor(keys)) {
    command.addOption(new Option(`--${flagName(option)} <value>`, `${option.describe} [env ${option.env}, default ${option.defaultText}]`))
  }
  return command
}

export function configFromCommand(command: Command, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const keys = commandKeys.get(command)
  if (!keys) throw new TypeError(`${command.name()} has no configuration options (addConfigOptions)`)
  const opts = command.opts<Record<string, string | undefined>>()
  const flags: Record<string, string | undefined> = {}
  for (const option of optionsFor(keys)) {
    const name = flagName(option)
    const value = opts[camel(name)]
    if (value !== undefined) flags[name] = value
  }
  return loadConfig({ env, flags, only: [...keys, ...CHECKED_EVERYWHERE] })
}

function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}
