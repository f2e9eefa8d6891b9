/** Opens the catalog and blob store a configuration names; the one place that maps the options. */
import type { BlobStore } from '../blobs/blob-store.js'
import { openBlobStore } from '../blobs/open-blob-store.js'
import type { Catalog } from '../catalog/catalog.js'
import { openCatalog } from '../catalog/open-catalog.js'
import type { Logger } from '../logging/logger.js'
import type { Config } from './options.js'

export function openConfiguredCatalog(config: Readonly<Config>, logger: Logger): Promise<Catalog> {
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
