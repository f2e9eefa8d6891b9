/**
 * One capture attempt of one media record: the transfer pipeline from its source (WhatsApp:
 * resolved through the Graph API with the number's token; Messenger/Instagram: the CDN URL) into
 * the blob store, hashed, counted, sniffed and verified on the way. Resolves with the `stored`
 * settlement; failures are thrown as MediagateErrors and become retry or failed (capture-job.ts).
 */
import type { BlobStore } from '../blobs/blob-store.js'
import type { StoredOutcome } from '../catalog/catalog.js'
import type { MediaRecord } from '../media/record.js'
import { toBlobStore } from '../transfer/destinations.js'
import type { OpenSourceOptions, SourceDeps } from '../transfer/open-source.js'
import { openSniffed } from '../transfer/sniffed-source.js'
import { kindOfMime } from '../media/mime.js'

export interface CaptureDeps {
  blobs: BlobStore
  sources: SourceDeps
}

export async function captureMedia(media: MediaRecord, deps: CaptureDeps, signal: AbortSignal, options: Pick<OpenSourceOptions, 'tryWebhookUrl'> = {}): Promise<StoredOutcome> {
  const source = await openSniffed(media, deps.sources, signal, { ...options, whole: true })
  const stored = await toBlobStore(source, deps.blobs, { maxBytes: deps.sources.maxBytes, signal, ...(deps.sources.now ? { now: deps.sources.now } : {}) })
  // Meta could not say what it was (Instagram `unsupported_type`): the bytes decide.
  const kind = media.kind === 'unknown' ? kindOfMime(stored.sniffedMime) : null
  return kind ? { ...stored, kind } : stored
}
