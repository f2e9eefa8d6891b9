/** Opens the catalog and blob store a configuration names; the one place that maps the options. */
import type { BlobStore } from '../blobs/blob-store.js'
import { openBlobStore } from '../blobs/open-blob-store.js'
import type { Catalog } from '../catalog/catalog.js'
import { parseDatabaseUrl } from '../catalog/database-url.js'
import { openCatalog } from '../catalog/open-catalog.js'
import { openThreadedSqliteCatalog } from '../catalog/threaded-sqlite-catalog.js'
import type { Logger } from '../logging/logger.js'
import type { Config } from './options.js'

/**
 * `thread`: a long-running server puts SQLite on a worker thread (its commits fsync synchronously
 * and would otherwise stall the event loop); short commands keep it in-process.
 */
export async function openConfiguredCatalog(config: Readonly<Config>, logger: Logger, options: { thread?: boolean } = {}): Promise<Catalog> {
  const target = parseDatabaseUrl(config.databaseUrl)
  if (options.thread && target.kind === 'sqlite' && target.path !== ':memory:') return openThreadedSqliteCatalog({ path: target.path })
  return openCatalog(config.databaseUrl, { logger })
}

export function openConfiguredBlobStore(config: Readonly<Config>, logger: Logger): Promise<BlobStore> {
  return openBlobStore(config.storageUrl, {
    logger,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    ...(config.s3ForcePathStyle !== undefined ? { forcePathStyle: config.s3ForcePathStyle } : {}),
    ...(config.s3Region ? { region: config.s3Region } : {}),
    ...(config.s3Redirect ? { redirect: true } : {}),
  })
}
