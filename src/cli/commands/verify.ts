/**
 * `mediagate verify`: re-hashes every stored blob against its sha256 and size, with progress,
 * derived blobs (thumbnails, previews) included.
 * Reports missing and corrupt blobs (exit code 1). With --quarantine, a corrupt blob is moved
 * aside (kept as evidence, no longer served) and its records become `failed` with `integrity`,
 * visible in the API and retryable once the source can be fetched again.
 *
 * Then lists the store for orphans: blobs no live record uses, written over an hour ago
 * (retention/orphans.ts), reported without changing the exit code (they are waste, not loss).
 * The retention sweep removes them; --remove-orphans removes them now, under the same claims as
 * any erasure, so a capture that is about to use one keeps it.
 */
import { Command } from 'commander'
import { verifyBlob } from '../../blobs/verify.js'
import type { ReleaseResult } from '../../retention/eraser.js'
import { ORPHAN_GRACE_MS, orphanBlobs } from '../../retention/orphans.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'
import { startProgress } from '../progress.js'
import { DERIVE_TASK } from '../../catalog/task-plans.js'

export function verifyCommand(): Command {
  const command = new Command('verify')
    .description('re-hash every stored blob; report (or --quarantine) missing and corrupt ones')
    .option('--quarantine', 'move corrupt blobs aside and mark their media failed (integrity)')
    .option('--remove-orphans', 'delete blobs no record uses (written over an hour ago) instead of only reporting them')
  addConfigOptions(command, [...READS.catalog, ...READS.blobs])
  command.action(async () => {
    const { quarantine, removeOrphans } = command.opts<{ quarantine?: boolean; removeOrphans?: boolean }>()
    const config = configFromCommand(command)
    // Only --quarantine and --remove-orphans change anything; the blob store is shared with a gateway that may be running.
    const writes = quarantine === true || removeOrphans === true
    const problems = await withParts(config, { catalog: writes ? 'write' : 'read', blobs: 'shared' }, async ({ catalog, blobs, eraser }) => {
      const expected = new Map<string, { sha256: string; size: number }>()
      for (let after: string | null = null; ; ) {
        const rows = await catalog.exportRows('media', after, 500)
        if (rows.length === 0) break
        for (const r of rows) {
          if (r.status === 'stored' && typeof r.blob_key === 'string') expected.set(r.blob_key, { sha256: String(r.sha256), size: Number(r.size) })
        }
        after = rows.at(-1)!.id as string
      }
      // Derived blobs (thumbnails, previews): their key is their sha256; their size is on the row.
      const derived = new Map<string, string>()
      for (let after: string | null = null; ; ) {
        const rows = await catalog.exportRows('derivatives', after, 500)
        if (rows.length === 0) break
        for (const r of rows) {
          if (r.size === null || r.size === undefined || typeof r.blob_key !== 'string' || expected.has(r.blob_key)) continue
          expected.set(r.blob_key, { sha256: r.blob_key.split('/').at(-1) ?? '', size: Number(r.size) })
          derived.set(r.blob_key, String(r.media_id))
        }
        after = rows.at(-1)!.id as string
      }
      const progress = startProgress('verify', expected.size)
      const found: string[] = []
      try {
        for (const [key, want] of expected) {
          const result = await verifyBlob(blobs, key, want)
          progress.increment()
          if (result.status === 'ok') continue
          let line = `${result.status}: ${key}${result.sha256 ? ` (hashes to ${result.sha256}, ${result.size} bytes)` : ''}`
          const mediaId = derived.get(key)
          if (mediaId !== undefined) {
            const media = await catalog.get(mediaId)
            // A tombstone's derivative whose erasure is finishing: not a loss.
            if (media?.status !== 'stored') continue
            line += ` (derived from ${mediaId})`
            if (quarantine) {
              if (result.status === 'corrupt' && blobs.quarantine) line += ` → moved to ${await blobs.quarantine(key)}`
              // Made again from the original by the worker (or on the next request).
              await catalog.enqueueTasks([{ kind: DERIVE_TASK, mediaId }])
              await catalog.markDeriving([mediaId], 'pending', null)
              line += '; queued to be derived again'
            }
            found.push(line)
            continue
          }
          if (quarantine) {
            const message = `the stored blob is ${result.status}; found by mediagate verify`
            if (result.status === 'corrupt' && blobs.quarantine) line += ` → moved to ${await blobs.quarantine(key)}`
            const failed = await catalog.failBlob(key, { code: 'integrity', message })
            line += `; ${failed} media marked failed`
          }
          found.push(line)
        }
      } finally {
        progress.stop()
      }
      const orphans = { lines: [] as string[], bytes: 0, removed: 0 }
      for await (const batch of orphanBlobs(catalog, blobs, new Date(Date.now() - ORPHAN_GRACE_MS))) {
        const outcome = removeOrphans ? await eraser.releaseBlobs(batch.map((b) => b.key)) : undefined
        for (const blob of batch) {
          orphans.bytes += blob.size
          let line = `orphan: ${blob.key} (${blob.size} bytes, written ${blob.modifiedAt?.toISOString() ?? 'at an unknown time'}, no record uses it)`
          if (outcome) line += ` → ${orphanOutcome(outcome, blob.key)}`
          if (outcome?.deletedKeys.has(blob.key)) orphans.removed += 1
          orphans.lines.push(line)
        }
      }
      return { checked: expected.size, found, orphans }
    })
    const { found, checked, orphans } = problems
    for (const line of [...found, ...orphans.lines]) process.stdout.write(`${line}\n`)
    process.stdout.write(`verified ${checked} blobs: ${checked - found.length} ok, ${found.length} missing or corrupt\n`)
    if (orphans.lines.length > 0) {
      const what = removeOrphans ? `${orphans.removed} removed` : 'the retention sweep removes them, or verify --remove-orphans now'
      process.stdout.write(`orphans: ${orphans.lines.length} blobs (${orphans.bytes} bytes) no record uses, written over an hour ago; ${what}\n`)
    }
    if (found.length > 0) process.exitCode = 1
  })
  return command
}

/** What --remove-orphans did with one orphan. */
function orphanOutcome(outcome: ReleaseResult, key: string): string {
  if (outcome.deletedKeys.has(key)) return 'removed'
  if (outcome.failed.has(key)) return 'removing it failed (logged above)'
  if (outcome.leased.has(key)) return 'kept: a capture is storing these bytes now'
  if (outcome.busy.has(key)) return 'kept: another process is deleting it'
  return 'kept: a record uses it now'
}
