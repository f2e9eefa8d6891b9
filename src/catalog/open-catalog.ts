/** Opens the catalog a database URL (or its parsed target) names; call `migrate()` next unless it was opened `read`. */
import type { Logger } from '../logging/logger.js'
import { missingCatalog, type OpenAccess } from './catalog-access.js'
import { type DatabaseTarget, describeDatabase, parseDatabaseUrl } from './database-url.js'
import { PostgresCatalog } from './postgres-catalog.js'
import { SqliteCatalog } from './sqlite-catalog.js'

export type { OpenAccess } from './catalog-access.js'

export interface OpenCatalogOptions {
  logger?: Logger
  /** PostgreSQL schema; overrides the URL's `?schema=`. */
  schema?: string
  /** PostgreSQL pool size; overrides the URL's `?pool_size=`; default 10. */
  poolSize?: number
  /** SQLite: how long to wait for another process's write lock; default 5000 ms. */
  busyTimeoutMs?: number
  /**
   * Default `create`. `write` and `read` need an existing, migrated catalog (a missing one is
   * `not_found`, naming where it was looked for); `read` opens it so that nothing can be written.
   */
  access?: OpenAccess
}

/** Throws `invalid_config` for a URL it cannot use; a down PostgreSQL shows up later as `catalog` (at once with `write`/`read`). */
export async function openCatalog(database: string | DatabaseTarget, opts: OpenCatalogOptions = {}): Promise<SqliteCatalog | PostgresCatalog> {
  const target = typeof database === 'string' ? parseDatabaseUrl(database) : database
  const access = opts.access ?? 'create'
  const catalog = open(target, access, opts)
  if (access === 'create') return catalog
  // A file (or a schema) without our migrations table is not a catalog that was made for us.
  try {
    if ((await catalog.schemaVersion()) === 0) throw missingCatalog(describeDatabase(opts.schema && target.kind === 'postgres' ? { ...target, schema: opts.schema } : target))
  } catch (err) {
    await catalog.close().catch(() => {})
    throw err
  }
  return catalog
}

function open(target: DatabaseTarget, access: OpenAccess, opts: OpenCatalogOptions): SqliteCatalog | PostgresCatalog {
  if (target.kind === 'sqlite') {
    return new SqliteCatalog({
      path: target.path,
      access,
      ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    })
  }
  const schema = opts.schema ?? target.schema
  const poolSize = opts.poolSize ?? target.poolSize
  return new PostgresCatalog({
    connectionString: target.connectionString,
    readOnly: access === 'read',
    ...(schema !== undefined ? { schema } : {}),
    ...(poolSize !== undefined ? { poolSize } : {}),
    ...(target.preparedStatements !== undefined ? { preparedStatements: target.preparedStatements } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  })
}
