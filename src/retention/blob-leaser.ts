/**
 * The capture's half of safe blob deletion (the eraser's half is in eraser.ts, the catalog's in
 * catalog/blob-plans.ts). Identical bytes share one blob, so erasing one record may delete the
 * blob another record is being stored with: its put found the blob there (or wrote it) and its
 * settlement has not made the record point at it yet. A capture therefore leases the key on its
 * own record before the store commits (`beforeCommit`, once the sha256 is known); the eraser
 * deletes a blob only under a claim that a lease blocks. The settlement ends the lease.
 *
 * One catalog transaction per captured media, shared by the captures that lease at the same
 * moment (group commit). When a deletion of the key is in progress, the put waits for it to end
 * and leases then, so its bytes are written after the deletion, not before it.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BlobLease, BlobLeaseAnswer, BlobLeases } from '../catalog/catalog.js'
import { blobKeyFor } from '../blobs/blob-store.js'
import { MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import { GroupCommit } from '../util/group-commit.js'

export interface BlobLeaserOptions {
  catalog: BlobLeases
  /** Longest a put waits for a deletion of its key to end before it fails (retryable). Default 10 s. */
  maxWaitMs?: number
  /**
   * How long a lazy capture's lease on a remote record holds: at least as long as one download
   * may take (MEDIAGATE_DOWNLOAD_DEADLINE_MS), since on S3 a put larger than one part whose sha256
   * is declared leases before its first byte (smaller ones lease once their bytes are in memory,
   * just before their single request). Default 10 minutes.
   */
  remoteHoldMs?: number
}

export class BlobLeaser {
  private readonly leases: GroupCommit<BlobLease, BlobLeaseAnswer>
  private readonly maxWaitMs: number
  private readonly remoteHoldMs: number
  /** Names this process's lazy captures on the records they lease (they have no job lease owner). */
  private readonly remoteOwner = `lazy-${randomUUID()}`

  constructor(options: BlobLeaserOptions) {
    this.leases = new GroupCommit((items) => options.catalog.leaseBlobs(items))
    this.maxWaitMs = options.maxWaitMs ?? 10_000
    this.remoteHoldMs = options.remoteHoldMs ?? 10 * 60_000
  }

  /** The `beforeCommit` of one capture attempt of `media`, claimed by the job engine (`leaseOwner`). */
  beforeCommit(media: Pick<MediaRecord, 'id' | 'leaseOwner'>, signal: AbortSignal): (sha256: string) => Promise<void> {
    return (sha256) => {
      if (media.leaseOwner === null) throw new MediagateError('internal', `media ${media.id} is captured without a lease`)
      return this.lease({ mediaId: media.id, owner: media.leaseOwner, blobKey: blobKeyFor(sha256) }, signal)
    }
  }

  /** The `beforeCommit` of a lazy capture of a `remote` record (first request, `mediagate capture`). */
  beforeCommitRemote(media: Pick<MediaRecord, 'id'>, signal: AbortSignal): (sha256: string) => Promise<void> {
    return (sha256) => this.lease({ mediaId: media.id, owner: this.remoteOwner, blobKey: blobKeyFor(sha256), holdMs: this.remoteHoldMs }, signal)
  }

  private async lease(lease: BlobLease, signal: AbortSignal): Promise<void> {
    const { mediaId, blobKey } = lease
    const deadline = Date.now() + this.maxWaitMs
    for (let delay = 20; ; delay = Math.min(500, delay * 2)) {
      const answer = await this.leases.submit(lease)
      if (answer === 'leased') return
      if (answer === 'lost') {
        // Deleted or taken over (or a remote record stored by another capture): its settlement
        // will be refused too, and committing now would only leave bytes behind. Retryable for
        // the one case where it is not refused: our lease ran out (the process stalled) and no
        // one took the job yet.
        throw new MediagateError('conflict', `media ${mediaId} is no longer this capture's (deleted, stored by another capture, or its lease ran out): its blob is not stored`, { retryable: true })
      }
      if (Date.now() + delay > deadline) {
        throw new MediagateError('storage', `blob ${blobKey} could not be leased within ${this.maxWaitMs} ms (${answer}); the capture will be retried`, { retryable: true })
      }
      // An abort rejects here; the put frame reports the caller's reason. A busy record is
      // free again within a statement or two.
      await sleep(answer === 'busy' ? 5 : delay, undefined, { signal })
    }
  }
}
