/**
 * Erasure of media records (DELETE, `mediagate delete`, retention, unsend), one way for all:
 * the records become tombstones first (so nothing serves them any more), then each blob that no
 * live record shares is deleted and the tombstones let go of its key. A blob store that fails
 * leaves the key on the tombstone; the retention sweep finishes the job later.
 */
import type { BlobStore } from '../blobs/blob-store.js'
import type { Erasure } from '../catalog/catalog.js'
import { toMediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'

export interface EraserOptions {
  catalog: Erasure
  blobs: BlobStore
  logger: Logger
}

export class Eraser {
  constructor(private readonly options: EraserOptions) {}

  /**
   * Tombstones the records (unknown ids are skipped) and deletes their unshared blobs. Returns
   * the tombstones, including records deleted before (erasing twice is not an error).
   */
  async erase(ids: string[], now: Date = new Date()): Promise<MediaRecord[]> {
    const tombstones = await this.options.catalog.markDeleted(ids, now)
    const keys = [...new Set(tombstones.map((t) => t.blobKey).filter((k): k is string => k !== null))]
    if (keys.length === 0) return tombstones
    const { released } = await this.releaseBlobs(keys)
    return tombstones.map((t) => (t.blobKey !== null && released.has(t.blobKey) ? { ...t, blobKey: null } : t))
  }

  /**
   * Deletes each blob no live record uses, and lets tombstones go of every key that is now
   * settled (deleted, or still used by a live record). Never throws for one blob: it is logged
   * and stays on its tombstone for the next sweep.
   */
  async releaseBlobs(keys: string[]): Promise<{ deleted: number; released: Set<string> }> {
    const { catalog, blobs, logger } = this.options
    const referenced = new Set(await catalog.referencedBlobKeys(keys))
    const released = new Set<string>()
    let deleted = 0
    for (const key of new Set(keys)) {
      if (!referenced.has(key)) {
        try {
          await blobs.delete(key)
          deleted += 1
        } catch (err) {
          logger.warn({ err: toMediagateError(err, 'storage'), blobKey: key }, 'deleting a blob failed; the retention sweep will try again')
          continue
        }
      }
      released.add(key)
    }
    await catalog.releaseBlobKeys([...released])
    return { deleted, released }
  }
}
