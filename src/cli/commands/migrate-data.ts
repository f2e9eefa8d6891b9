/**
 * `mediagate migrate-data --to-database … --to-storage …`: copies the catalog and every blob from
 * the configured backends (typically SQLite + disk) to new ones (PostgreSQL + S3). Blobs are
 * copied before the records that point at them and verified against their sha256 on arrival, so
 * the destination never holds a stored record without its bytes. Safe to run again after an
 * interruption: existing rows and blobs are skipped. Stop the gateway first.
 */
import { Command } from 'commander'
import type { BlobStore } from '../../blobs/blob-store.js'
import { parseStorageUrl } from '../../blobs/open-blob-store.js'
import type { Catalog, CopyTable } from '../../catalog/catalog.js'
import { parseDatabaseUrl } from '../../catalog/database-url.js'
import type { Config } from '../../config/options.js'
import { MediagateError } from '../../errors.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { startProgress } from '../progress.js'
import { withParts } from '../with-parts.js'

const PAGE = 200

export function migrateDataCommand(): Command {
  const command = new Command('migrate-data')
    .description('copy catalog and blobs to another database and blob store, verifying every blob (re-runnable)')
    .requiredOption('--to-database <url>', 'destination catalog, e.g. postgres://user@host/db')
    .requiredOption('--to-storage <url>', 'destination blob store, e.g. s3://bucket/prefix (MEDIAGATE_S3_* options apply)')
  addConfigOptions(command, [...READS.catalog, ...READS.blobs])
  command.action(async () => {
    const { toDatabase, toStorage } = command.opts<{ toDatabase: string; toStorage: string }>()
    const config = configFromCommand(command)
    const destConfig = destination(config, toDatabase, toStorage)
    if (toDatabase === config.databaseUrl && toStorage === config.storageUrl) {
      throw new MediagateError('bad_request', 'the destination is the same as the source')
    }
    // The source is only read (the gateway is stopped, so its blob store needs no preparing);
    // the destination is created and prepared as a gateway would.
    const stats = await withParts(config, { catalog: 'read', blobs: 'shared' }, (source) =>
      withParts(destConfig, { catalog: 'create', blobs: 'own' }, (dest) => copyAll(source.catalog, source.blobs, dest.catalog, dest.blobs)),
    )
    process.stdout.write(
      `copied ${stats.webhooks} webhooks, ${stats.forwards} forwards and ${stats.media} media records (${stats.skipped} already there); ` +
        `${stats.blobsCopied} blobs copied and verified, ${stats.blobsPresent} already present\n`,
    )
  })
  return command
}

/** The source configuration with the destination's backends, checked as the configuration checks its own. */
function destination(config: Readonly<Config>, toDatabase: string, toStorage: string): Readonly<Config> {
  const problems: string[] = []
  const parse = <T>(fn: () => T): T | undefined => {
    try {
      return fn()
    } catch (err) {
      problems.push((err as Error).message)
      return undefined
    }
  }
  const database = parse(() => parseDatabaseUrl(toDatabase, '--to-database'))
  const storage = parse(() => parseStorageUrl(toStorage, '--to-storage'))
  if (!database || !storage) throw new MediagateError('invalid_config', `invalid destination:\n  - ${problems.join('\n  - ')}`)
  return Object.freeze({ ...config, databaseUrl: toDatabase.trim(), database, storageUrl: toStorage.trim(), storage })
}

interface CopyStats {
  webhooks: number
  forwards: number
  media: number
  skipped: number
  blobsCopied: number
  blobsPresent: number
}

export async function copyAll(source: Catalog, sourceBlobs: BlobStore, dest: Catalog, destBlobs: BlobStore): Promise<CopyStats> {
  const stats: CopyStats = { webhooks: 0, forwards: 0, media: 0, skipped: 0, blobsCopied: 0, blobsPresent: 0 }
  const total = (await source.counts()).reduce((n, c) => n + c.count, 0)
  await forEachPage(source, 'webhooks', async (rows) => {
    stats.webhooks += await dest.importRows('webhooks', rows)
  })
  // The forwarding outbox, so forwards still owed to the user's app are not lost in the move.
  await forEachPage(source, 'forwards', async (rows) => {
    stats.forwards += await dest.importRows('forwards', rows)
  })
  const progress = startProgress('migrate-data', total)
  try {
    await forEachPage(source, 'media', async (rows) => {
      for (const row of rows) {
        if (row.status !== 'stored' || typeof row.blob_key !== 'string' || typeof row.sha256 !== 'string') continue
        row.blob_key = await copyBlob(sourceBlobs, destBlobs, row.blob_key, row.sha256, stats)
      }
      const inserted = await dest.importRows('media', rows)
      stats.media += inserted
      stats.skipped += rows.length - inserted
      progress.increment(rows.length)
    })
  } finally {
    progress.stop()
  }
  return stats
}

async function forEachPage(catalog: Catalog, table: CopyTable, fn: (rows: Record<string, unknown>[]) => Promise<void>): Promise<void> {
  let after: string | null = null
  for (;;) {
    const rows = await catalog.exportRows(table, after, PAGE)
    if (rows.length === 0) return
    await fn(rows)
    after = rows.at(-1)!.id as string
  }
}

async function copyBlob(from: BlobStore, to: BlobStore, key: string, sha256: string, stats: CopyStats): Promise<string> {
  const existing = await to.stat(key)
  if (existing) {
    stats.blobsPresent++
    return key
  }
  const put = await to.put(await from.read(key), { expectedSha256: sha256 })
  stats.blobsCopied++
  return put.key
}
