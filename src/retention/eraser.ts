/**
 * Erasure of media records (DELETE, `mediagate delete`, retention, unsend), one way for all:
 * the records become tombstones first (so nothing serves them any more), then each blob (its own
 * and its derivatives': thumbnails, previews) that no
 * live record shares is deleted and the tombstones let go of its key. A blob store that fails
 * leaves the key on the tombstone; the retention sweep finishes the job later.
 *
 * Blobs are shared by content, so a blob is deleted only under a claim in the catalog, which is
 * refused while a live record uses the key or a capture has leased it to commit the same bytes
 * (blob-leaser.ts): a capture between its put and its settlement keeps its bytes. Each call
 * claims under a name of its own, so two deletions of one key never overlap, in one process or
 * several.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BlobStore } from '../blobs/blob-store.js'
import type { BlobLeases, Erasure } from '../catalog/catalog.js'
import { toMediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'
import { orphanBlobs } from './orphans.js'

/**
 * How long a deletion claim holds (a claimant that dies lets go after it). A claimant starts no
 * deletion past half of it: the other half is the margin for the last one to finish before a
 * capture may lease the key again.
 */
const CLAIM_MS = 2 * 60_000
/** Keys claimed together: one transaction, and a bounded time under the claim. */
const KEYS_PER_CLAIM = 100
/** How long `discard` waits for another deletion of its keys to end. */
const DISCARD_WAIT_MS = 30_000

export interface EraserOptions {
  catalog: Erasure & BlobLeases
  blobs: BlobStore
  logger: Logger
}

export interface ReleaseResult {
  /** How many blobs were deleted from the store. */
  deleted: number
  /** Their keys. */
  deletedKeys: Set<string>
  /** Keys tombstones no longer hold: the blob is deleted, or a live record uses it. */
  released: Set<string>
  /** Keys whose blob could not be deleted (the store failed); they stay on their tombstones. */
  failed: Set<string>
  /** Keys a capture is about to use (leased): left alone, on their tombstones. */
  leased: Set<string>
  /** Keys another deletion is working on: left to it. */
  busy: Set<string>
}

function emptyResult(): ReleaseResult {
  return { deleted: 0, deletedKeys: new Set(), released: new Set(), failed: new Set(), leased: new Set(), busy: new Set() }
}

export class Eraser {
  constructor(private readonly options: EraserOptions) {}

  /**
   * Tombstones the records (unknown ids are skipped) and deletes their unshared blobs. Returns
   * the tombstones, including records deleted before (erasing twice is not an error).
   */
  async erase(ids: string[], now?: Date): Promise<MediaRecord[]> {
    const tombstones = await this.options.catalog.markDeleted(ids, now)
    // Derived blobs (thumbnails, previews) go with their media; read after the tombstones, so a
    // derivation that reserved a key before them is seen, and one after them was refused.
    const derived = await this.options.catalog.derivedBlobKeys(tombstones.map((t) => t.id))
    const keys = [...new Set([...tombstones.map((t) => t.blobKey).filter((k): k is string => k !== null), ...derived])]
    if (keys.length === 0) return tombstones
    const { released } = await this.releaseBlobs(keys)
    return tombstones.map((t) => (t.blobKey !== null && released.has(t.blobKey) ? { ...t, blobKey: null } : t))
  }

  /**
   * Deletes each blob no live record uses and no capture has leased, and lets tombstones go of
   * every key that is now settled (deleted, or still used by a live record). Never throws for one
   * blob: it is logged and stays on its tombstone for the next sweep. A key a capture leased, or
   * another process is deleting, stays on its tombstones too: the sweep looks at it again.
   */
  async releaseBlobs(keys: string[]): Promise<ReleaseResult> {
    const result = emptyResult()
    const unique = [...new Set(keys)]
    for (let i = 0; i < unique.length; i += KEYS_PER_CLAIM) await this.releaseBatch(unique.slice(i, i + KEYS_PER_CLAIM), result)
    return result
  }

  /**
   * Deletes blobs that were written for records which no longer want them (a capture whose
   * settlement was refused because its record was deleted meanwhile), unless a live record uses
   * them or a capture leased them. Unlike `releaseBlobs`, waits (a bounded time) for a deletion of
   * the same key in progress elsewhere: that one may have run just before these bytes were
   * committed, and would leave them behind.
   */
  async discard(keys: string[]): Promise<ReleaseResult> {
    const result = emptyResult()
    let pending = [...new Set(keys)]
    const deadline = Date.now() + DISCARD_WAIT_MS
    for (let delay = 20; ; delay = Math.min(1000, delay * 2)) {
      const round = await this.releaseBlobs(pending)
      result.deleted += round.deleted
      for (const name of ['deletedKeys', 'released', 'failed', 'leased'] as const) for (const key of round[name]) result[name].add(key)
      pending = [...round.busy]
      if (pending.length === 0) return result
      if (Date.now() + delay > deadline) {
        for (const key of pending) result.busy.add(key)
        this.options.logger.warn({ blobKeys: pending }, 'another deletion of these blobs did not end in time; the orphan reconciliation will collect them')
        return result
      }
      await sleep(delay)
    }
  }

  /**
   * Deletes the orphan blobs last written before `olderThan` (orphans.ts), under the same claims
   * as any deletion. `stop` is asked at every listed blob and between batches (a sweeper that is
   * stopping).
   */
  async collectOrphans(olderThan: Date, stop: () => boolean = () => false): Promise<{ found: number; deleted: number }> {
    const { catalog, blobs } = this.options
    let found = 0
    let deleted = 0
    for await (const batch of orphanBlobs(catalog, blobs, olderThan, stop)) {
      found += batch.length
      deleted += (await this.releaseBlobs(batch.map((b) => b.key))).deleted
      if (stop()) break
    }
    return { found, deleted }
  }

  private async releaseBatch(keys: string[], result: ReleaseResult): Promise<void> {
    const { catalog, blobs, logger } = this.options
    const claimant = `erase-${process.pid}-${randomUUID()}`
    const claim = await catalog.claimBlobDeletions(keys, claimant, CLAIM_MS)
    const stopAt = Date.now() + CLAIM_MS / 2
    const deleted: string[] = []
    const failed: string[] = []
    for (const key of claim.claimed) {
      if (Date.now() > stopAt) {
        failed.push(key)
        continue
      }
      try {
        await blobs.delete(key)
        deleted.push(key)
      } catch (err) {
        logger.warn({ err: toMediagateError(err, 'storage'), blobKey: key }, 'deleting a blob failed; the retention sweep will try again')
        failed.push(key)
      }
    }
    const release = [...deleted, ...claim.referenced]
    await catalog.endBlobDeletions(claimant, release, failed)
    result.deleted += deleted.length
    for (const key of deleted) result.deletedKeys.add(key)
    for (const key of release) result.released.add(key)
    for (const key of failed) result.failed.add(key)
    for (const key of claim.leased) result.leased.add(key)
    for (const key of claim.busy) result.busy.add(key)
  }
}
