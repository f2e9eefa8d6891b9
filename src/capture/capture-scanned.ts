/**
 * Capture with malware scanning on (MEDIAGATE_CLAMAV_URL): a media becomes `stored` only after a
 * clean scan of the bytes in the blob store. The steps, as one capture attempt:
 *
 * 1. Bytes: a pending record that holds a `blobKey` kept its verified bytes from an earlier
 *    attempt whose scan could not run: they are used as they are, without downloading again from
 *    Meta (whose URL or id may have expired meanwhile). Otherwise (or if those bytes are gone)
 *    the media is downloaded, verified and stored as without scanning.
 * 2. Scan: clean → `stored`. Infected → the blob is quarantined and the record (with every stored
 *    record sharing the bytes) ends `failed`/`infected`. Too large for clamd → `failed` with
 *    `too_large_to_scan`, or `stored` marked `skipped` under MEDIAGATE_CLAMAV_OVERSIZE=pass.
 * 3. clamd down, slow or failing (or the store failing to read the bytes back): the record stays
 *    `pending`, keeps the bytes' facts and key (which keeps the blob from any deletion, see
 *    catalog/blob-plans.ts: a record that is not deleted references it), and comes back with
 *    backoff. This is not the source's failure: no deadline of the source applies (fail closed).
 *
 * The scan step is separate from the download, so a caller that already holds verified bytes
 * (a future `POST /v1/media` upload) can run `scanStep` on them directly, synchronously.
 */
import type { BlobStore } from '../blobs/blob-store.js'
import type { KeptBytes, ScanVerdicts, Settlement, StoredOutcome } from '../catalog/catalog.js'
import { toMediagateError } from '../errors.js'
import { backoffDelay } from '../jobs/backoff.js'
import type { MediaRecord, ScanResult } from '../media/record.js'
import { quarantineInfected } from '../scanning/quarantine.js'
import type { Scanner } from '../scanning/scanner.js'
import type { CaptureFn } from './capture-job.js'
import type { CaptureRetryPolicy } from './retry-policy.js'

export interface ScanStepDeps {
  scanner: Scanner
  /** The plain store (quarantine, reads); not the capture's lease-taking wrapper. */
  blobs: BlobStore
  catalog: Pick<ScanVerdicts, 'quarantineBlob'>
  retry: Pick<CaptureRetryPolicy, 'baseDelayMs' | 'maxDelayMs'>
  /** Other stored records that shared infected bytes and are now failed (their webhooks' forwards go out again). */
  onQuarantined?: (records: MediaRecord[]) => void
  now?: () => Date
}

/** The verified bytes a pending record kept for its scan, if it holds any. */
export function keptBytes(media: MediaRecord): KeptBytes | undefined {
  if (media.status !== 'pending' || media.blobKey === null || media.sha256 === null || media.size === null) return undefined
  return { blobKey: media.blobKey, sha256: media.sha256, size: media.size, sniffedMime: media.sniffedMime, mimeType: media.mimeType }
}

/** Wraps a capture (download and store) with the scan: what the worker runs when scanning is on. */
export function scanningCapture(download: CaptureFn, deps: ScanStepDeps): CaptureFn {
  return async (media, signal) => {
    let kept = keptBytes(media)
    if (kept && !(await deps.blobs.stat(kept.blobKey))) kept = undefined
    let stored: StoredOutcome
    if (kept) stored = { status: 'stored', ...kept }
    else {
      const settlement = await download(media, signal)
      if (settlement.status !== 'stored') return settlement
      stored = settlement
    }
    return scanStep(media, stored, deps, signal)
  }
}

/** Scans stored bytes and says what the record becomes (never throws for the scan itself). */
export async function scanStep(media: Pick<MediaRecord, 'attempts'>, stored: StoredOutcome, deps: ScanStepDeps, signal: AbortSignal): Promise<Settlement> {
  const now = deps.now ?? (() => new Date())
  const kept: KeptBytes = { blobKey: stored.blobKey, sha256: stored.sha256, size: stored.size, sniffedMime: stored.sniffedMime, mimeType: stored.mimeType }
  let scan: ScanResult
  try {
    scan = await deps.scanner.scanBlob(deps.blobs, stored.blobKey, stored.size, signal)
  } catch (err) {
    const error = toMediagateError(err, 'scanner')
    const failedScan: ScanResult = { status: error.code === 'too_large_to_scan' ? 'skipped' : 'error', engine: null, scannedAt: now(), signature: null, releasedAt: null }
    const recorded = { code: error.code, message: error.message, vendorCode: error.vendorCode ?? null }
    // Never stored: the blob is no one's (unless shared), and the orphan sweep collects it.
    if (error.code === 'too_large_to_scan') return { status: 'failed', error: recorded, scan: failedScan, blobKey: null }
    if (signal.aborted) return { status: 'retry', error: recorded, nextAttemptAt: now(), refundAttempt: true, kept, scan: failedScan }
    const delay = backoffDelay(media.attempts, deps.retry)
    return { status: 'retry', error: recorded, nextAttemptAt: new Date(now().getTime() + delay), kept, scan: failedScan }
  }
  if (scan.status !== 'infected') return { ...stored, scan }
  try {
    const quarantined = await quarantineInfected(deps, stored.blobKey, scan)
    if (quarantined.records.length > 0) deps.onQuarantined?.(quarantined.records)
    // The facts stay on the record: `mediagate scan --release` verifies the bytes it puts back against them.
    return { status: 'failed', error: quarantined.error, scan, blobKey: quarantined.quarantineKey, kept }
  } catch (err) {
    // The store or the catalog failed mid-way: still pending (never stored), scanned again next time.
    const error = toMediagateError(err, 'storage')
    const delay = backoffDelay(media.attempts, deps.retry)
    return { status: 'retry', error: { code: error.code, message: `quarantining infected bytes failed: ${error.message}` }, nextAttemptAt: new Date(now().getTime() + delay), kept, scan }
  }
}
