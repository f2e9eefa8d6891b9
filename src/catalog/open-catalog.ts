/** Opens the catalog a database URL names (see database-url.ts); call `migrate()` next. */
import type { Logger } from '../logging/logger.js'
import { parseDatabaseUrl } from './database-url.js'
import { PostgresCatalog } from './postgres-catalog.js'
import { SqliteCatalog } from './sqlite-catalog.js'

export interface OpenCatalogOptions {
  logger?: Logger
  /** PostgreSQL schema; overrides the URL's `?schema=`. */
  schema?: string
  /** PostgreSQL pool size; overrides the URL's `?pool_size=`; default 10. */
  poolSize?: number
  /** SQLite: how long to wait for another process's write lock; default 5000 ms. */
  busyTimeoutMs?: number
}

/** Throws `invalid_config` for a URL it cannot use; a down PostgreSQL shows up later as `catalog`. */
export async function openCatalog(databaseUrl: string, opts: OpenCatalogOptions = {}): Promise<SqliteCatalog | PostgresCatalog> {
  const target = parseDatabaseUrl(databaseUrl)
  if (target.kind === 'sqlite') {
    return new SqliteCatalog({
      path: target.path,
      ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    })
  }
  const schema = opts.schema ?? target.schema
  const poolSize = opts.poolSize ?? target.poolSize
  return new PostgresCatalog({
    connectionString: target.connectionString,
    ...(schema !== undefined ? { schema } : {}),
    ...(poolSize !== undefined ? { poolSize } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  })
}
