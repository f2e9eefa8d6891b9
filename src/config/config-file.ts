/**
 * `mediagate.config.json`: access tokens per WhatsApp number and per page, for gateways that
 * serve several. Read and validated once at start; every problem is reported at once, by its
 * path in the file, and a token never appears in a message.
 *
 *   { "whatsapp": { "<phone_number_id>": { "access_token": "…", "no_storage": true } },
 *     "pages":    { "<page_id>":         { "access_token": "…" } } }
 *
 * `no_storage` marks a number on Meta's No-Storage option (its media live one hour at Meta); such
 * an entry may leave `access_token` out and use WHATSAPP_ACCESS_TOKEN.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { MediagateError } from '../errors.js'

/** Tokens by account id; a missing entry falls back to WHATSAPP_ACCESS_TOKEN. */
export interface AccountTokens {
  /** phone_number_id → token (WhatsApp media lookups and downloads). */
  whatsapp: ReadonlyMap<string, string>
  /** page id (or Instagram account id) → page token (re-fetching expired Messenger/Instagram media). */
  pages: ReadonlyMap<string, string>
  /** phone_number_ids on Meta's No-Storage option: capture deadline one hour after receipt. */
  noStorage: ReadonlySet<string>
}

export const DEFAULT_CONFIG_FILE = 'mediagate.config.json'

const SECTIONS = ['whatsapp', 'pages'] as const
const ACCOUNT_ID = /^[0-9]{1,32}$/

/** The file named by MEDIAGATE_CONFIG_FILE (must exist), else ./mediagate.config.json if it exists, else no tokens. */
export function loadAccountTokens(configured: string | undefined, cwd: string = process.cwd()): AccountTokens {
  const file = configured ?? path.resolve(cwd, DEFAULT_CONFIG_FILE)
  if (configured === undefined && !existsSync(file)) return { whatsapp: new Map(), pages: new Map(), noStorage: new Set() }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new MediagateError('invalid_config', `MEDIAGATE_CONFIG_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    // V8 quotes part of the text in its message, which may be a token: keep only the position.
    const position = /position (\d+)/.exec((err as Error).message)?.[1]
    throw new MediagateError('invalid_config', `${file} is not valid JSON${position ? ` (at character ${position})` : ''}`)
  }
  return parseAccountTokens(json, file)
}

/** Validates the parsed file; `source` names it in messages. */
export function parseAccountTokens(json: unknown, source: string): AccountTokens {
  const problems: string[] = []
  const result = { whatsapp: new Map<string, string>(), pages: new Map<string, string>(), noStorage: new Set<string>() }
  if (!isObject(json)) {
    throw new MediagateError('invalid_config', `${source}: must be a JSON object with "whatsapp" and/or "pages"`)
  }
  for (const key of Object.keys(json)) {
    if (key !== '$schema' && !(SECTIONS as readonly string[]).includes(key)) problems.push(`"${key}": unknown key (expected "whatsapp" or "pages")`)
  }
  for (const section of SECTIONS) {
    const entries = json[section]
    if (entries === undefined) continue
    if (!isObject(entries)) {
      problems.push(`"${section}": must be an object keyed by ${section === 'whatsapp' ? 'phone_number_id' : 'page id'}`)
      continue
    }
    for (const [id, entry] of Object.entries(entries)) {
      const where = `"${section}"."${id}"`
      if (!ACCOUNT_ID.test(id)) problems.push(`${where}: the key must be a numeric ${section === 'whatsapp' ? 'phone_number_id' : 'page id'}`)
      const token = isObject(entry) ? entry.access_token : undefined
      const noStorage = section === 'whatsapp' && isObject(entry) ? entry.no_storage : undefined
      if (noStorage !== undefined && typeof noStorage !== 'boolean') problems.push(`${where}."no_storage": must be true or false`)
      // A No-Storage flag alone is a complete entry: the number then uses WHATSAPP_ACCESS_TOKEN.
      const tokenOptional = noStorage !== undefined && token === undefined
      if (!tokenOptional && (typeof token !== 'string' || token.trim() === '')) {
        problems.push(`${where}: must be {"access_token": "<token>"} with a non-empty string`)
        continue
      }
      if (isObject(entry)) {
        const known = section === 'whatsapp' ? ['access_token', 'no_storage'] : ['access_token']
        for (const extra of Object.keys(entry)) if (!known.includes(extra)) problems.push(`${where}."${extra}": unknown key`)
      }
      if (typeof token === 'string') result[section].set(id, token.trim())
      if (noStorage === true) result.noStorage.add(id)
    }
  }
  if (problems.length > 0) throw new MediagateError('invalid_config', `${source}:\n  - ${problems.join('\n  - ')}`)
  return result
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The token for a WhatsApp number: its own from the file, else the global one. */
export function whatsappTokenFor(tokens: AccountTokens, phoneNumberId: string, fallback: string | undefined): string | undefined {
  return tokens.whatsapp.get(phoneNumberId) ?? fallback
}
