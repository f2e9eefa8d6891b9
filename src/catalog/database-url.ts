/**
 * Which catalog a database URL names. PostgreSQL: `postgres://` or `postgresql://`, with our own
 * optional query parameters `schema`, `pool_size` and `prepared_statements` (`on`, the default, or
 * `off` behind a pooler that cannot keep them) (removed before pg sees the URL). SQLite:
 * `sqlite:<path>`, `sqlite:///abs/path`, `sqlite::memory:`, `file:<path>`, `file:///abs/path`
 * or a plain path. Anything else is `invalid_config`; messages never show the password.
 * The configuration parses it once when it loads (`Config.database`); openers take the target.
 */
import { fileURLToPath } from 'node:url'
import { MediagateError } from '../errors.js'

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; connectionString: string; schema?: string; poolSize?: number; preparedStatements?: boolean }

/** A PostgreSQL schema we put in search_path: a plain lowercase identifier, never quoted. */
export const POSTGRES_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

const SCHEME = /^([a-z][a-z0-9+.-]*):/i
const WINDOWS_DRIVE = /^[a-z]:[\\/]/i

/** `name` is what messages call the value: the variable, or the flag it came from. */
export function parseDatabaseUrl(databaseUrl: string, name = 'MEDIAGATE_DATABASE_URL'): DatabaseTarget {
  const invalid = (message: string, cause?: unknown) => new MediagateError('invalid_config', `${name}: ${message}`, cause === undefined ? {} : { cause })
  const raw = databaseUrl.trim()
  if (raw === '') throw invalid('the database URL is empty')
  const scheme = WINDOWS_DRIVE.test(raw) ? undefined : SCHEME.exec(raw)?.[1]?.toLowerCase()
  if (scheme === undefined) return { kind: 'sqlite', path: raw }
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgres(raw, invalid)
  if (scheme === 'sqlite') return { kind: 'sqlite', path: nonEmpty(raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '').replace(/^\/\//, ''), raw, invalid) }
  if (scheme === 'file') return { kind: 'sqlite', path: nonEmpty(fileUrlPath(raw, invalid), raw, invalid) }
  throw invalid(`unsupported database URL scheme "${scheme}:" (use sqlite:<path> or postgres://…)`)
}

/** Where a target points, for messages: the SQLite path, or the PostgreSQL URL without its password (and the schema). */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return target.path
  return `${maskPassword(target.connectionString)}${target.schema ? ` (schema ${target.schema})` : ''}`
}

/** The URL with its password replaced by `***`, for messages. */
export function maskPassword(databaseUrl: string): string {
  return databaseUrl.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[^@/?#]*@/i, '$1***@')
}

type Invalid = (message: string, cause?: unknown) => MediagateError

function parsePostgres(raw: string, invalid: Invalid): DatabaseTarget {
  let url: URL
  try {
    url = new URL(raw)
  } catch (err) {
    throw invalid(`the PostgreSQL URL ${maskPassword(raw)} is not a valid URL`, err)
  }
  if (!url.hostname && !url.searchParams.get('host')) throw invalid(`the PostgreSQL URL ${maskPassword(raw)} names no host`)
  const schema = url.searchParams.get('schema') ?? undefined
  if (schema !== undefined && !POSTGRES_SCHEMA_NAME.test(schema)) throw invalid(`schema must match ${POSTGRES_SCHEMA_NAME.source}, got "${schema}"`)
  const poolText = url.searchParams.get('pool_size') ?? undefined
  const preparedText = url.searchParams.get('prepared_statements') ?? undefined
  url.searchParams.delete('schema')
  url.searchParams.delete('pool_size')
  url.searchParams.delete('prepared_statements')
  if (preparedText !== undefined && preparedText !== 'on' && preparedText !== 'off') throw invalid(`prepared_statements must be on or off, got "${preparedText}"`)
  let poolSize: number | undefined
  if (poolText !== undefined) {
    poolSize = Number(poolText)
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) throw invalid(`pool_size must be a whole number from 1 to 1000, got "${poolText}"`)
  }
  return {
    kind: 'postgres',
    connectionString: url.toString(),
    ...(schema !== undefined ? { schema } : {}),
    ...(poolSize !== undefined ? { poolSize } : {}),
    ...(preparedText !== undefined ? { preparedStatements: preparedText === 'on' } : {}),
  }
}

function fileUrlPath(raw: string, invalid: Invalid): string {
  if (!raw.startsWith('file://')) return raw.slice('file:'.length)
  try {
    return fileURLToPath(raw)
  } catch (err) {
    throw invalid(`${raw} is not a usable file URL`, err)
  }
}

function nonEmpty(path: string, raw: string, invalid: Invalid): string {
  if (path === '') throw invalid(`${raw} names no file`)
  return path
}
