/**
 * Lazy media (storage policy `lazy`): captured when first asked for, or by `mediagate capture`
 * before the WhatsApp media id expires. The record stays `remote` until its bytes are verified
 * in the blob store, then becomes `stored` like any eagerly captured media.
 */
import type { BlobStore } from '../blobs/blob-store.js'
import { withBeforeCommit } from '../blobs/with-before-commit.js'
import type { MediaQueries, RemoteMedia, StoredOutcome } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import type { BlobLeaser } from '../retention/blob-leaser.js'
import { type SourceDeps, webhookUrlFresh } from '../transfer/open-source.js'
import { type CaptureDeps, captureMedia } from './capture-media.js'

export interface LazyCaptureDeps {
  catalog: RemoteMedia & Pick<MediaQueries, 'get'>
  blobs: BlobStore
  sources: SourceDeps
  leaser: Pick<BlobLeaser, 'beforeCommitRemote'>
  /** Deletes blobs no live record uses (a record deleted while its capture ran). */
  discardBlobs: (keys: string[]) => Promise<void>
  /** Task kinds queued with the record becoming stored (`derive` with MEDIAGATE_DERIVE). */
  enqueue?: string[]
}

/**
 * What a lazy capture of `media` writes with: the blob store, with the blob key leased on the
 * remote record before the put commits (as an eager capture leases it on its pending record), so
 * an erasure of other media with the same bytes cannot delete the blob under it, and an erasure
 * of this record leaves no bytes behind.
 */
export function lazyCaptureDeps(media: MediaRecord, deps: LazyCaptureDeps, signal: AbortSignal): CaptureDeps {
  return { blobs: withBeforeCommit(deps.blobs, deps.leaser.beforeCommitRemote(media, signal)), sources: deps.sources }
}

/** Downloads, verifies and stores a remote lazy record now; resolves with the stored record. */
export async function captureLazy(media: MediaRecord, deps: LazyCaptureDeps, signal: AbortSignal): Promise<MediaRecord> {
  let stored: StoredOutcome
  try {
    stored = await captureMedia(media, lazyCaptureDeps(media, deps, signal), signal, { tryWebhookUrl: webhookUrlFresh(media) })
  } catch (err) {
    // Another process may have stored it first (its lease then refuses ours): that is success.
    const current = await deps.catalog.get(media.id).catch(() => undefined)
    if (current?.status === 'stored') return current
    throw err
  }
  return settleLazy(media, stored, deps)
}

/**
 * Marks a lazy record stored once its bytes are in the blob store. Another process may have
 * stored it first (fine: same bytes, same blob) or deleted it meanwhile: then the blob we just
 * wrote may be one nobody wants, and it goes again.
 */
export async function settleLazy(media: MediaRecord, stored: StoredOutcome, deps: LazyCaptureDeps): Promise<MediaRecord> {
  const record = await deps.catalog.storeRemote(media.id, deps.enqueue?.length ? { ...stored, enqueue: deps.enqueue } : stored)
  if (record) return record
  const current = await deps.catalog.get(media.id)
  if (current?.blobKey !== stored.blobKey) await deps.discardBlobs([stored.blobKey])
  if (current?.status === 'stored') return current
  if (current?.status === 'deleted') throw new MediagateError('deleted', `media ${media.id} was deleted while it was being captured`)
  throw new MediagateError('conflict', `media ${media.id} is ${current?.status ?? 'gone'}, no longer waiting for its bytes`)
}
