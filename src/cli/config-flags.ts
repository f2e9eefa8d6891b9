/**
 * Every configuration option is also a flag of the same name (`MEDIAGATE_DATA_DIR` →
 * `--data-dir`, `META_APP_SECRET` → `--meta-app-secret`). Precedence: flag, environment, default.
 */
import { type Command, Option } from 'commander'
import { flagName, loadConfig } from '../config/load-config.js'
import { type Config, OPTIONS } from '../config/options.js'

export function addConfigOptions(command: Command): Command {
  for (const option of OPTIONS) {
    command.addOption(new Option(`--${flagName(option)} <value>`, `${option.describe} [env ${option.env}, default ${option.defaultText}]`))
  }
  return command
}

export function configFromCommand(command: Command, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const opts = command.opts<Record<string, string | undefined>>()
  const flags: Record<string, string | undefined> = {}
  for (const option of OPTIONS) {
    const name = flagName(option)
    const value = opts[camel(name)]
    if (value !== undefined) flags[name] = value
  }
  return loadConfig({ env, flags })
}

function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}
