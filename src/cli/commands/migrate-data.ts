/**
 * `mediagate migrate-data --to-database … --to-storage …`: copies the catalog (webhooks, the
 * forwarding outbox with its state, media records) and every blob from the configured backends
 * (typically SQLite + disk) to new ones (PostgreSQL + S3). Blobs are copied before the records
 * that point at them and verified against their sha256 on arrival, so the destination never
 * holds a stored record without its bytes. The quarantined bytes of infected media go too, under
 * the same quarantine key, so they stay evidence there and can be released there.
 *
 * Running it again brings the destination up to date and converges: new rows are inserted, rows
 * the source changed since are replaced by their newer version (`updated_at`), rows the
 * destination changed since are left alone, and tombstones arrive with their erasure: the blob
 * of media erased at the source is deleted from the destination store unless a live record
 * there still shares it (copy-plans.ts has the rule).
 *
 * A source a gateway is still writing to is refused (live leases, or changes that go on over a
 * few seconds) unless `--live` is given. Either way, when the source changed while a pass was
 * copying, catch-up passes copy what changed since, until a pass finds the source as it left it.
 */
import { Command } from 'commander'
import { blobKeyFor, type BlobStore } from '../../blobs/blob-store.js'
import { quarantinedFrom } from '../../blobs/keys.js'
import { parseStorageUrl } from '../../blobs/open-blob-store.js'
import type { Catalog, CopyActivity, CopyTable, CopyVerdict } from '../../catalog/catalog.js'
import { parseDatabaseUrl } from '../../catalog/database-url.js'
import type { Config } from '../../config/options.js'
import { isMediagateError, MediagateError } from '../../errors.js'
import type { Eraser } from '../../retention/eraser.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { type Progress, startProgress } from '../progress.js'
import { withParts } from '../with-parts.js'

const PAGE = 200
/** How long a source must stay still before it is copied: a gateway writing to it changes something sooner. */
export const QUIET_MS = 5_000
/**
 * A change is stamped when its transaction starts, not when it commits, so a catch-up pass
 * re-reads from well before the previous pass began: it re-reads a little, it misses nothing.
 */
const CATCH_UP_MARGIN_MS = 60_000
/** The full pass and at most three catch-up passes. */
const MAX_PASSES = 4
const RELEASE_BATCH = 500
const RELEASE_MAX_BATCHES = 1_000

export function migrateDataCommand(): Command {
  const command = new Command('migrate-data')
    .description('copy catalog and blobs to another database and blob store, verifying every blob; run again to bring it up to date')
    .requiredOption('--to-database <url>', 'destination catalog, e.g. postgres://user@host/db')
    .requiredOption('--to-storage <url>', 'destination blob store, e.g. s3://bucket/prefix (MEDIAGATE_S3_* options apply)')
    .option('--live', 'copy although a gateway is still writing to the source, then catch up on what changed meanwhile')
  addConfigOptions(command, [...READS.catalog, ...READS.blobs])
  command.action(async () => {
    const { toDatabase, toStorage, live = false } = command.opts<{ toDatabase: string; toStorage: string; live?: boolean }>()
    const config = configFromCommand(command)
    const destConfig = destination(config, toDatabase, toStorage)
    if (toDatabase === config.databaseUrl && toStorage === config.storageUrl) {
      throw new MediagateError('bad_request', 'the destination is the same as the source')
    }
    // The source is only read, beside a gateway that may be running (so its blob store is not
    // prepared); it is checked before the destination is created. The destination is created
    // and prepared as a gateway would.
    const stats = await withParts(config, { catalog: 'read', blobs: 'shared' }, async (source) => {
      const start = await checkSource(source.catalog, { live })
      return withParts(destConfig, { catalog: 'create', blobs: 'own' }, (dest) => copyUntilStill(source, dest, start))
    })
    process.stdout.write(report(stats))
    if (!stats.converged && !live) {
      throw new MediagateError('conflict', `the source kept changing while it was copied (${stillChanging(stats)}): a gateway is still writing to it; stop it and run again`)
    }
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

export interface CopySource {
  catalog: Catalog
  blobs: BlobStore
}

export interface CopyDestination extends CopySource {
  /** Deletes the blobs of erased media (the destination's own, from its parts). */
  eraser: Eraser
}

export interface CopyStats {
  /** Rows inserted at the destination. */
  webhooks: number
  forwards: number
  /** Derivative rows (thumbnails, previews) written, their blobs copied with them. */
  derivatives: number
  media: number
  /** Media records the full pass found already at the destination (in any version). */
  skipped: number
  /** Rows replaced by the source's newer version. */
  updated: { forwards: number; media: number }
  /** Rows the destination holds in a version that wins: changed there since, or erased there. */
  kept: number
  blobsCopied: number
  blobsPresent: number
  /** Blobs of erased media deleted from the destination store. */
  blobsDeleted: number
  passes: number
  /** The last pass found the source as it left it, and held nothing back. */
  converged: boolean
  /** Rows the last pass held back (their webhook, or their blob, changed at the source meanwhile). */
  waiting: number
}

/**
 * Refuses, unless `live`, a source that a process is still writing to: unexpired leases, or
 * changes that go on. A source changed less than `quietMs` ago (a gateway stopped a moment
 * ago, or `mediagate delete` just now) is watched until it has been still that long, once.
 * Returns the reading the copy starts from.
 */
export async function checkSource(catalog: Catalog, options: { live: boolean; quietMs?: number }): Promise<CopyActivity> {
  const first = await catalog.copyActivity()
  if (options.live) return first
  const quietMs = options.quietMs ?? QUIET_MS
  refuseLeases(first)
  const age = first.lastChangeAt === null ? Number.POSITIVE_INFINITY : first.now.getTime() - first.lastChangeAt.getTime()
  if (age >= quietMs) return first
  await new Promise((resolve) => setTimeout(resolve, quietMs - Math.max(0, age)))
  const later = await catalog.copyActivity()
  refuseLeases(later)
  if (!sameState(first, later)) {
    throw new MediagateError('conflict', `the source catalog is still changing (again within the last ${quietMs / 1000} s), so a gateway is still writing to it. ${BUSY_HINT}`)
  }
  return later
}

const BUSY_HINT = 'Stop the gateway and run again, or pass --live to copy while it runs (then run again once it is stopped).'

function refuseLeases(activity: CopyActivity): void {
  if (activity.leases === 0) return
  throw new MediagateError(
    'conflict',
    `the source catalog is in use: ${activity.leases} jobs are leased to a running process (until ${activity.leasedUntil?.toISOString()}; a killed gateway's leases expire then). ${BUSY_HINT}`,
  )
}

/** `checkSource`, then `copyUntilStill`: the whole command on parts the caller opened. */
export async function migrateData(source: CopySource, dest: CopyDestination, options: { live: boolean; quietMs?: number }): Promise<CopyStats> {
  return copyUntilStill(source, dest, await checkSource(source.catalog, options))
}

/**
 * A full pass, then catch-up passes over what changed since shortly before the previous pass
 * began, until a pass ends with the source as it found it (no row added, no newer change) and
 * nothing held back, or `MAX_PASSES` have run.
 */
export async function copyUntilStill(source: CopySource, dest: CopyDestination, start: CopyActivity): Promise<CopyStats> {
  const stats: CopyStats = {
    webhooks: 0,
    forwards: 0,
    derivatives: 0,
    media: 0,
    skipped: 0,
    updated: { forwards: 0, media: 0 },
    kept: 0,
    blobsCopied: 0,
    blobsPresent: 0,
    blobsDeleted: 0,
    passes: 0,
    converged: false,
    waiting: 0,
  }
  let before = start
  let since: Date | null = null
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    stats.passes = pass
    stats.waiting = await copyPass(source, dest, since, stats)
    await finishErasures(dest, stats)
    const after = await source.catalog.copyActivity()
    if (stats.waiting === 0 && sameState(before, after)) {
      stats.converged = true
      break
    }
    since = new Date(before.now.getTime() - CATCH_UP_MARGIN_MS)
    before = after
  }
  return stats
}

function sameState(a: CopyActivity, b: CopyActivity): boolean {
  return a.rows === b.rows && (a.lastChangeAt?.getTime() ?? null) === (b.lastChangeAt?.getTime() ?? null)
}

/** One pass over the three tables (rows changed since `since`, or all); returns how many rows it held back. */
async function copyPass(source: CopySource, dest: CopyDestination, since: Date | null, stats: CopyStats): Promise<number> {
  const full = since === null
  let waiting = 0
  // Webhooks first: media point at them.
  await forEachPage(source.catalog, 'webhooks', since, async (rows) => {
    const verdicts = await dest.catalog.compareRows('webhooks', rows.map(copyKey))
    const fresh = rows.filter((r) => verdicts[String(r.id)] === 'insert')
    stats.webhooks += await dest.catalog.importRows('webhooks', fresh)
  })
  // The forwarding outbox with its state, so forwards still owed to the user's app are not lost in the move.
  await forEachPage(source.catalog, 'forwards', since, async (rows) => {
    const verdicts = await dest.catalog.compareRows('forwards', rows.map(copyKey))
    const tally = count(verdicts)
    await dest.catalog.importRows('forwards', rows.filter((r) => writes(verdicts[String(r.id)])))
    stats.forwards += tally.insert
    stats.updated.forwards += tally.update
    stats.kept += tally.keep
  })
  const progress: Progress | undefined = full ? startProgress('migrate-data', (await source.catalog.counts()).reduce((n, c) => n + c.count, 0)) : undefined
  try {
    await forEachPage(source.catalog, 'media', since, async (rows) => {
      const verdicts = await dest.catalog.compareRows('media', rows.map(copyKey))
      const write: Record<string, unknown>[] = []
      for (const row of rows) {
        const verdict = verdicts[String(row.id)]!
        // A catch-up pass leaves alone what an earlier pass checked and nobody changed since.
        const checkBlob = verdict === 'insert' || verdict === 'update' || (verdict === 'same' && full)
        if (checkBlob && row.status === 'stored' && typeof row.blob_key === 'string' && typeof row.sha256 === 'string') {
          const key = await copyBlob(source, dest.blobs, row, row.blob_key, row.sha256, stats)
          if (key === undefined) {
            waiting++
            continue
          }
          row.blob_key = key
        }
        if (checkBlob && row.status === 'pending' && typeof row.blob_key === 'string' && typeof row.sha256 === 'string') {
          // Verified bytes kept for a malware scan clamd could not do yet: they go along, so the
          // destination scans them instead of downloading again (or downloads, if they are gone).
          row.blob_key = (await copyBlob(source, dest.blobs, row, row.blob_key, row.sha256, stats)) ?? null
        }
        if (checkBlob && row.status === 'failed' && typeof row.blob_key === 'string' && quarantinedFrom(row.blob_key) !== undefined) {
          // An infected media's quarantined bytes: its evidence, and what a release puts back.
          const key = await copyQuarantined(source, dest, row, row.blob_key, stats)
          if (key === undefined) {
            waiting++
            continue
          }
          row.blob_key = key
        }
        if (writes(verdict) && row.status === 'deleted' && typeof row.sha256 === 'string') {
          // The source's tombstone may no longer name its bytes (its erasure let go of the key)
          // while the destination has them: copied by a run interrupted before this record, or
          // under another record. The tombstone here holds their key, so finishErasures deletes
          // them unless a live record shares them.
          const key = blobKeyFor(row.sha256)
          row.blob_key = (await dest.blobs.stat(key)) ? key : null
        }
        if (writes(verdict)) write.push(row)
      }
      await dest.catalog.importRows('media', write)
      const tally = count(verdicts)
      stats.media += tally.insert
      stats.updated.media += tally.update
      stats.kept += tally.keep
      if (full) stats.skipped += tally.update + tally.same + tally.keep
      waiting += tally.wait
      progress?.increment(rows.length)
    })
  } finally {
    progress?.stop()
  }
  // Derivatives (thumbnails, previews) after their media, each with its blob; one still being
  // written at the source (no size yet) waits for a later pass.
  await forEachPage(source.catalog, 'derivatives', since, async (rows) => {
    const verdicts = await dest.catalog.compareRows('derivatives', rows.map(copyKey))
    const write: Record<string, unknown>[] = []
    for (const row of rows) {
      if (!writes(verdicts[String(row.id)]) || typeof row.blob_key !== 'string') continue
      if (row.size === null || row.size === undefined) {
        waiting++
        continue
      }
      const key = await copyBlob(source, dest.blobs, row, row.blob_key, row.blob_key.split('/').at(-1) ?? '', stats)
      if (key === undefined) continue
      write.push({ ...row, blob_key: key })
    }
    await dest.catalog.importRows('derivatives', write)
    stats.derivatives += write.length
  })
  return waiting
}

function writes(verdict: CopyVerdict | undefined): boolean {
  return verdict === 'insert' || verdict === 'update'
}

function count(verdicts: Record<string, CopyVerdict>): Record<CopyVerdict, number> {
  const tally: Record<CopyVerdict, number> = { insert: 0, update: 0, same: 0, keep: 0, wait: 0 }
  for (const verdict of Object.values(verdicts)) tally[verdict]++
  return tally
}

/** What `compareRows` reads of a row: not the webhook bodies. */
function copyKey(row: Record<string, unknown>): Record<string, unknown> {
  return { id: row.id, status: row.status, updated_at: row.updated_at, webhook_id: row.webhook_id }
}

async function forEachPage(catalog: Catalog, table: CopyTable, since: Date | null, fn: (rows: Record<string, unknown>[]) => Promise<void>): Promise<void> {
  let after: string | null = null
  for (;;) {
    const rows = await catalog.exportRows(table, after, PAGE, since ?? undefined)
    if (rows.length === 0) return
    await fn(rows)
    after = rows.at(-1)!.id as string
  }
}

/**
 * Makes sure the destination has the blob, copying and verifying it if not; returns its key
 * there, or undefined when the blob is gone at the source because the record changed meanwhile
 * (erased while a gateway runs: the next pass copies the tombstone instead).
 */
async function copyBlob(source: CopySource, to: BlobStore, row: Record<string, unknown>, key: string, sha256: string, stats: CopyStats): Promise<string | undefined> {
  if (await to.stat(key)) {
    stats.blobsPresent++
    return key
  }
  let bytes
  try {
    bytes = await source.blobs.read(key)
  } catch (err) {
    if (!isMediagateError(err) || err.code !== 'not_found') throw err
    const now = await source.catalog.get(String(row.id))
    if (now && now.status === 'stored' && now.blobKey === key) {
      throw new MediagateError('not_found', `media ${String(row.id)} is stored at the source but its blob ${key} is missing there; run \`mediagate verify\` on the source`, { cause: err })
    }
    return undefined
  }
  const put = await to.put(bytes, { expectedSha256: sha256 })
  stats.blobsCopied++
  return put.key
}

/**
 * Makes sure the destination holds the quarantined blob under the same quarantine key: the bytes
 * are put (verified against the sha256 the key names) at their content key, copied aside to the
 * quarantine key, and the content key let go again unless a live record there uses it. Returns
 * the key the record holds there, or undefined when the blob is gone at the source because the
 * record changed meanwhile (released, erased: the next pass copies that instead).
 */
async function copyQuarantined(source: CopySource, dest: CopyDestination, row: Record<string, unknown>, quarantineKey: string, stats: CopyStats): Promise<string | undefined> {
  if (await dest.blobs.stat(quarantineKey)) {
    stats.blobsPresent++
    return quarantineKey
  }
  const contentKey = quarantinedFrom(quarantineKey)!
  let bytes
  try {
    bytes = await source.blobs.read(quarantineKey)
  } catch (err) {
    if (!isMediagateError(err) || err.code !== 'not_found') throw err
    const now = await source.catalog.get(String(row.id))
    if (now && now.status === 'failed' && now.blobKey === quarantineKey) {
      throw new MediagateError('not_found', `media ${String(row.id)} holds the quarantined blob ${quarantineKey} at the source but it is missing there`, { cause: err })
    }
    return undefined
  }
  const put = await dest.blobs.put(bytes, { expectedSha256: contentKey.split('/').at(-1)! })
  stats.blobsCopied++
  // A store without a quarantine keeps infected bytes under their content key (scanning/quarantine.ts).
  if (!dest.blobs.copyToQuarantine) return put.key
  await dest.blobs.copyToQuarantine(put.key, quarantineKey)
  if (!put.existed) await dest.eraser.discard([put.key])
  return quarantineKey
}

/**
 * Deletes from the destination store the blobs that tombstones there still hold and no live
 * record there shares: media erased at the source since an earlier copy brought their bytes.
 * The same work as the retention sweep's second half, on the destination's own eraser.
 */
async function finishErasures(dest: CopyDestination, stats: CopyStats): Promise<void> {
  for (let batch = 0; batch < RELEASE_MAX_BATCHES; batch++) {
    const keys = await dest.catalog.tombstoneBlobKeys(RELEASE_BATCH)
    if (keys.length === 0) return
    const { deleted, released, failed } = await dest.eraser.releaseBlobs(keys)
    stats.blobsDeleted += deleted
    if (failed.size > 0) {
      throw new MediagateError('storage', `${failed.size} blobs of erased media could not be deleted from the destination store (logged above); run again`)
    }
    // Keys a capture there leased, or another deletion is working on, stay on their tombstones:
    // the destination's own sweep finishes them, and asking again now would only find them again.
    if (released.size < keys.length) return
  }
}

function report(s: CopyStats): string {
  const lines = [
    `copied ${s.webhooks} webhooks, ${s.forwards} forwards and ${s.media} media records (${s.skipped} already there); ` +
      `${s.blobsCopied} blobs copied and verified, ${s.blobsPresent} already present`,
    `updated ${s.updated.forwards} forwards and ${s.updated.media} media records to the source's newer state, kept ${s.kept} the destination changed since; ` +
      `deleted ${s.blobsDeleted} blobs of erased media at the destination`,
  ]
  if (s.derivatives > 0) lines.push(`copied ${s.derivatives} derivatives (thumbnails, previews) with their blobs`)
  if (s.converged && s.passes > 1) lines.push(`caught up with changes made during the copy in ${s.passes - 1} more passes`)
  if (!s.converged) lines.push(`the source was still changing after ${s.passes} passes (${stillChanging(s)}): run again once the gateway is stopped`)
  return `${lines.join('\n')}\n`
}

function stillChanging(s: CopyStats): string {
  return s.waiting > 0 ? `${s.waiting} records held back until their webhook or blob settles` : 'it changed during the last pass'
}
