/**
 * Orphan blobs: in the store, used by no live record, written a while ago. Leases and deletion
 * claims keep erasure from leaving bytes behind or deleting bytes in use; this is the backstop for
 * what they cannot see: a process that died between its put and its settlement, a put that took
 * no lease (lazy capture, `mediagate capture`), a failure after the bytes were committed. The
 * retention sweep removes orphans (through the eraser's claims, so a capture that leased one in
 * the meantime keeps it) and `mediagate verify` reports them.
 *
 * The grace period covers puts that took no lease: their record says nothing of their bytes until
 * it is settled, so a young blob no one uses may be one about to be used.
 */
import type { BlobStat, BlobStore } from '../blobs/blob-store.js'
import type { Erasure } from '../catalog/catalog.js'

/** Orphans younger than this are left alone. */
export const ORPHAN_GRACE_MS = 60 * 60_000

/** Keys per catalog lookup. */
const BATCH = 500

/**
 * The blobs last written before `olderThan` that no live record uses, in batches as the store
 * lists them (a tombstone that still holds a key does not count: its deletion is unfinished). A
 * store that does not say when a blob was written has no orphans. `stop` is asked at every listed
 * blob: a listing with no orphans yields nothing to stop between, and a shutdown should not wait
 * for the rest of a large store.
 */
export async function* orphanBlobs(catalog: Pick<Erasure, 'referencedBlobKeys'>, blobs: Pick<BlobStore, 'list'>, olderThan: Date, stop: () => boolean = () => false): AsyncIterable<BlobStat[]> {
  let batch: BlobStat[] = []
  const unused = async (): Promise<BlobStat[]> => {
    const used = new Set(await catalog.referencedBlobKeys(batch.map((b) => b.key)))
    const out = batch.filter((b) => !used.has(b.key))
    batch = []
    return out
  }
  for await (const blob of blobs.list()) {
    if (stop()) return
    if (blob.modifiedAt === undefined || blob.modifiedAt >= olderThan) continue
    batch.push(blob)
    if (batch.length < BATCH) continue
    const out = await unused()
    if (out.length > 0) yield out
  }
  if (batch.length === 0) return
  const out = await unused()
  if (out.length > 0) yield out
}
