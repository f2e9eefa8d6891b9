/**
 * Loads the configuration once at start: flag, then environment variable, then default.
 * Every wrong value is reported at once, each with its variable name; the result is frozen.
 */
import { MediagateError } from '../errors.js'
import { type Config, OPTIONS, type OptionSpec } from './options.js'

/** `MEDIAGATE_DATA_DIR` → `data-dir`; `META_APP_SECRET` → `meta-app-secret`. */
export function flagName(option: Pick<OptionSpec, 'env'>): string {
  return option.env.replace(/^MEDIAGATE_/, '').toLowerCase().replace(/_/g, '-')
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv
  /** Values from command-line flags, keyed by flag name (see `flagName`). */
  flags?: Record<string, string | undefined>
}

export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const env = sources.env ?? process.env
  const flags = sources.flags ?? {}
  const partial: Partial<Config> = {}
  const problems: string[] = []
  for (const option of OPTIONS) {
    const raw = flags[flagName(option)] ?? env[option.env]
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
  const config = partial as Config
  problems.push(...crossChecks(config))
  if (problems.length > 0) {
    throw new MediagateError('invalid_config', `invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
  return Object.freeze({ ...config, appSecrets: Object.freeze([...config.appSecrets]), allowedHosts: Object.freeze([...config.allowedHosts]) })
}

function crossChecks(config: Config): string[] {
  const problems: string[] = []
  if (!config.sandbox) {
    if (config.appSecrets.length === 0 && config.role !== 'worker') {
      problems.push('META_APP_SECRET: required outside sandbox mode (webhooks must be signed)')
    }
    if (!config.apiKey && config.role !== 'worker') {
      problems.push('MEDIAGATE_API_KEY: required outside sandbox mode (the /v1 API needs a key)')
    }
  }
  if (config.apiKey !== undefined && config.apiKey.length < 16) {
    problems.push('MEDIAGATE_API_KEY: must be at least 16 characters')
  }
  return problems
}
