/** Opens the catalog and blob store a configuration names; the one place that maps the options. */
import type { BlobStore } from '../blobs/blob-store.js'
import { openBlobStore } from '../blobs/open-blob-store.js'
import type { Catalog } from '../catalog/catalog.js'
import { openCatalog } from '../catalog/open-catalog.js'
import { openThreadedSqliteCatalog } from '../catalog/threaded-sqlite-catalog.js'
import type { Logger } from '../logging/logger.js'
import type { Config } from './options.js'

/**
 * How a process uses the catalog:
 * - `serve`: a long-running gateway; creates the catalog if needed. SQLite runs on a worker
 *   thread (its commits fsync synchronously and would otherwise stall the event loop).
 * - `create`: `mediagate migrate`; creates the catalog if needed.
 * - `write`: a command that changes an existing catalog (retry, delete, capture, ...).
 * - `read`: a command that only reads an existing catalog; never migrates or writes (SQLite
 *   opened read-only, PostgreSQL transactions read-only).
 * `write` and `read` fail with `not_found`, naming where they looked, when there is no catalog
 * there (a SQLite file that does not exist, a schema without `mediagate_migrations`), so that a
 * command run from the wrong directory does not quietly make a new, empty catalog.
 */
export type CatalogAccess = 'serve' | 'create' | 'write' | 'read'

export async function openConfiguredCatalog(config: Readonly<Config>, logger: Logger, options: { access: CatalogAccess }): Promise<Catalog> {
  const target = config.database
  if (options.access === 'serve' && target.kind === 'sqlite' && target.path !== ':memory:') return openThreadedSqliteCatalog({ path: target.path })
  return openCatalog(target, { logger, access: options.access === 'serve' ? 'create' : options.access })
}

export function openConfiguredBlobStore(config: Readonly<Config>, logger: Logger): Promise<BlobStore> {
  return openBlobStore(config.storage, {
    logger,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    ...(config.s3ForcePathStyle !== undefined ? { forcePathStyle: config.s3ForcePathStyle } : {}),
    ...(config.s3Region ? { region: config.s3Region } : {}),
    ...(config.s3Redirect ? { redirect: true } : {}),
  })
}
