/** Commands get their parts from openParts (src/parts.ts), as the gateway does: open, prepare, run, close. */
import { type BlobAccess, type CatalogAccess, openParts, type Parts } from '../parts.js'
import { createLogger, type Logger } from '../logging/logger.js'
import type { Config } from '../config/options.js'

export interface CommandParts {
  catalog?: CatalogAccess
  blobs?: BlobAccess
  /** Default: warnings and errors on stderr (stdout is the command's output). */
  logger?: Logger
}

export async function withParts<T>(config: Readonly<Config>, what: CommandParts, fn: (parts: Parts) => Promise<T>): Promise<T> {
  const parts = await openParts(config, {
    logger: what.logger ?? createLogger('warn', process.stderr as never),
    ...(what.catalog ? { catalog: what.catalog } : {}),
    ...(what.blobs ? { blobs: what.blobs } : {}),
  })
  try {
    await parts.prepare()
    return await fn(parts)
  } finally {
    await parts.close()
  }
}
