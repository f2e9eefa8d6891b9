/**
 * Lazy media (storage policy `lazy`): captured when first asked for, or by `mediagate capture`
 * before the WhatsApp media id expires. The record stays `remote` until its bytes are verified
 * in the blob store, then becomes `stored` like any eagerly captured media.
 *
 * With malware scanning on (`scan`), the stored bytes are scanned before the record changes, as
 * an eager capture's are (capture-scanned.ts): clean → `stored`; infected → the blob quarantined
 * and the record `failed`/`infected`; too large to scan under MEDIAGATE_CLAMAV_OVERSIZE=fail →
 * `failed`; clamd down or failing → the capture fails with that error (`scanner`, 503) and the
 * record stays `remote`, to be captured and scanned again by the next request or run. Its bytes
 * stay under the capture's lease for its hold time, then the orphan sweep collects them.
 */
import type { BlobStore } from '../blobs/blob-store.js'
import { withBeforeCommit } from '../blobs/with-before-commit.js'
import type { MediaQueries, RemoteMedia, StoredOutcome } from '../catalog/catalog.js'
import { type ErrorCode, MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import type { BlobLeaser } from '../retention/blob-leaser.js'
import { type SourceDeps, webhookUrlFresh } from '../transfer/open-source.js'
import { type CaptureDeps, captureMedia } from './capture-media.js'
import { type ScanStepDeps, scanStep } from './capture-scanned.js'

export interface LazyCaptureDeps {
  catalog: RemoteMedia & Pick<MediaQueries, 'get'>
  blobs: BlobStore
  sources: SourceDeps
  leaser: Pick<BlobLeaser, 'beforeCommitRemote'>
  /** Deletes blobs no live record uses (a record deleted while its capture ran). */
  discardBlobs: (keys: string[]) => Promise<void>
  /** Task kinds queued with the record becoming stored (`derive` with MEDIAGATE_DERIVE). */
  enqueue?: string[]
  /** Malware scanning (MEDIAGATE_CLAMAV_URL): a record becomes `stored` only after a clean scan. */
  scan?: ScanStepDeps
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

/**
 * Downloads, verifies and stores a remote lazy record now (and scans it, when scanning is on);
 * resolves with the record stored, or failed when its bytes are infected or too large to scan.
 */
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
  return deps.scan ? settleScanned(media, stored, deps, deps.scan, signal) : settleLazy(media, stored, deps)
}

/** Scans the stored bytes, then settles the record by the verdict (see the header). */
async function settleScanned(media: MediaRecord, stored: StoredOutcome, deps: LazyCaptureDeps, scan: ScanStepDeps, signal: AbortSignal): Promise<MediaRecord> {
  const verdict = await scanStep(media, stored, scan, signal)
  if (verdict.status === 'stored') return settleLazy(media, verdict, deps)
  if (verdict.status === 'retry') throw new MediagateError(verdict.error.code as ErrorCode, verdict.error.message)
  const bytes = { blobKey: stored.blobKey, sha256: stored.sha256, size: stored.size, sniffedMime: stored.sniffedMime, mimeType: stored.mimeType }
  const blobKey = verdict.blobKey ?? null
  const failed = await deps.catalog.failRemote(media.id, { error: verdict.error, scan: verdict.scan!, bytes, blobKey })
  if (failed) {
    // The app was told `remote` when the webhook was forwarded: it hears of the infection too.
    if (verdict.error.code === 'infected') scan.onQuarantined?.([failed])
    return failed
  }
  // No longer remote: stored by another process (whose record the quarantine failed too, if it
  // used these bytes) or deleted meanwhile, which leaves the quarantined copy to no one.
  const current = await deps.catalog.get(media.id)
  if (blobKey !== null && current?.blobKey !== blobKey) await deps.discardBlobs([blobKey])
  if (current?.status === 'deleted') throw new MediagateError('deleted', `media ${media.id} was deleted while it was being captured`)
  if (current && current.status !== 'remote') return current
  throw new MediagateError('conflict', `media ${media.id} is ${current?.status ?? 'gone'}, no longer waiting for its bytes`)
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
