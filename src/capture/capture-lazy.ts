/**
 * Lazy media (storage policy `lazy`): captured when first asked for, or by `mediagate capture`
 * before the WhatsApp media id expires. The record stays `remote` until its bytes are verified
 * in the blob store, then becomes `stored` like any eagerly captured media.
 */
import type { MediaQueries, RemoteMedia, StoredOutcome } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import { webhookUrlFresh } from '../transfer/open-source.js'
import { type CaptureDeps, captureMedia } from './capture-media.js'

export interface LazyCaptureDeps {
  catalog: RemoteMedia & Pick<MediaQueries, 'get'>
  capture: CaptureDeps
  /** Deletes blobs no live record uses (a record deleted while its capture ran). */
  discardBlobs: (keys: string[]) => Promise<void>
  /** Task kinds queued with the record becoming stored (`derive` with MEDIAGATE_DERIVE). */
  enqueue?: string[]
}

/** Downloads, verifies and stores a remote lazy record now; resolves with the stored record. */
export async function captureLazy(media: MediaRecord, deps: LazyCaptureDeps, signal: AbortSignal): Promise<MediaRecord> {
  const stored = await captureMedia(media, deps.capture, signal, { tryWebhookUrl: webhookUrlFresh(media) })
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
