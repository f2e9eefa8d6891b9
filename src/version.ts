/** The package version and the User-Agent every outgoing request carries (Meta's CDN wants one). */
import { readFileSync } from 'node:fs'

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export const VERSION = readVersion()
export const USER_AGENT = `mediagate/${VERSION} (+https://github.com/mediagate/mediagate)`
