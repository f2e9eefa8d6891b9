/** Commands that work on the data directly (ls, retry, migrate, replay) open only what they need. */
import type { BlobStore } from '../blobs/blob-store.js'
import type { Catalog } from '../catalog/catalog.js'
import { openConfiguredBlobStore, openConfiguredCatalog } from '../config/backends.js'
import type { Config } from '../config/options.js'
import { createLogger } from '../logging/logger.js'

export async function withCatalog<T>(config: Readonly<Config>, fn: (catalog: Catalog) => Promise<T>): Promise<T> {
  const catalog = await openConfiguredCatalog(config, createLogger('warn', process.stderr as never))
  try {
    await catalog.migrate()
    return await fn(catalog)
  } finally {
    await catalog.close()
  }
}

export async function withBlobs<T>(config: Readonly<Config>, fn: (blobs: BlobStore) => Promise<T>): Promise<T> {
  const blobs = await openConfiguredBlobStore(config, createLogger('warn', process.stderr as never))
  try {
    await blobs.init()
    return await fn(blobs)
  } finally {
    await blobs.close()
  }
}
