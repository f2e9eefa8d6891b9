/**
 * `POST /v1/media`: media the user's app posts, stored through the same pipeline as captures:
 * sniffed, hashed, capped at MEDIAGATE_MAX_BYTES, content-addressed in the blob store (the same
 * bytes twice are one blob). The record exists first as `remote` (lazy, no source) so its blob
 * key is leased on it before the put commits, exactly as a lazy capture leases its key: an
 * erasure of other media with the same bytes cannot delete the blob under it. It becomes
 * `stored` (direction `outbound`) once the bytes are durable and, with scanning on, clean.
 */
import { PassThrough, type Readable } from 'node:stream'
import type { BlobStore } from '../blobs/blob-store.js'
import { withBeforeCommit } from '../blobs/with-before-commit.js'
import type { Erasure, OutboundMedia, RemoteMedia, StoredOutcome } from '../catalog/catalog.js'
import { MediagateError, toMediagateError } from '../errors.js'
import { baseType, kindOfMime } from '../media/mime.js'
import { MEDIA_KINDS, type MediaKind, type MediaRecord, type NewMedia, type Platform } from '../media/record.js'
import type { BlobLeaser } from '../retention/blob-leaser.js'
import { peekHead } from '../transfer/peek-head.js'
import { chooseServedType, SNIFF_BYTES, sniffMime } from '../transfer/sniff.js'
import { scanStep, type ScanStepDeps } from '../capture/capture-scanned.js'

export interface StoreOutboundDeps {
  catalog: OutboundMedia & RemoteMedia & Pick<Erasure, 'markDeleted'>
  blobs: BlobStore
  leaser: Pick<BlobLeaser, 'beforeCommitRemote'>
  maxBytes: number
  /** Deletes blobs no live record uses (the eraser's `discard`). */
  discardBlobs: (keys: string[]) => Promise<unknown>
  /** Task kinds queued with the record becoming stored (`derive`). */
  enqueue?: string[]
  /** With scanning on: the upload is scanned before it is answered. */
  scan?: Omit<ScanStepDeps, 'catalog' | 'onQuarantined'> & { catalog: ScanStepDeps['catalog'] }
}

export interface OutboundUpload {
  body: Readable
  /** The request's Content-Type. */
  declaredMime: string | null
  /** The request's Content-Length, when it sent one. */
  length?: number
  filename?: string | null
  kind?: MediaKind
  /** Who the media is meant for, if the app says (informational; handles are asked per account). */
  platform?: Platform
  accountId?: string
}

export function parseKind(value: unknown): MediaKind | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !(MEDIA_KINDS as readonly string[]).includes(value) || value === 'unknown') {
    throw new MediagateError('bad_request', `kind must be one of ${MEDIA_KINDS.filter((k) => k !== 'unknown').join(', ')}`)
  }
  return value as MediaKind
}

export async function storeOutbound(upload: OutboundUpload, deps: StoreOutboundDeps, signal: AbortSignal): Promise<MediaRecord> {
  if (upload.length !== undefined && upload.length > deps.maxBytes) {
    upload.body.resume()
    throw new MediagateError('too_large', `the body is ${upload.length} bytes; MEDIAGATE_MAX_BYTES is ${deps.maxBytes}`)
  }
  const declaredMime = baseType(upload.declaredMime) === 'application/octet-stream' ? null : upload.declaredMime
  const record = await deps.catalog.recordOutbound(newOutbound(upload, declaredMime))
  let blobKey: string | undefined
  try {
    const { head, body } = await peekHead(detached(upload.body), SNIFF_BYTES)
    const sniffedMime = await sniffMime(head)
    const mimeType = chooseServedType(declaredMime, sniffedMime)
    const blobs = withBeforeCommit(deps.blobs, deps.leaser.beforeCommitRemote(record, signal))
    const put = await blobs.put(body, { maxBytes: deps.maxBytes, signal, ...(mimeType ? { contentType: mimeType } : {}) })
    blobKey = put.key
    let stored: StoredOutcome = { status: 'stored', sha256: put.sha256, size: put.size, blobKey: put.key, sniffedMime, mimeType, storedAt: new Date() }
    if (!upload.kind) stored = { ...stored, kind: kindOfMime(mimeType) ?? 'document' }
    if (deps.scan) {
      const settlement = await scanStep(record, stored, deps.scan, signal)
      if (settlement.status === 'failed') {
        if (settlement.blobKey) await deps.discardBlobs([settlement.blobKey]).catch(() => {})
        throw new MediagateError(settlement.error.code === 'infected' ? 'infected' : 'too_large_to_scan', settlement.error.message)
      }
      if (settlement.status === 'retry') throw new MediagateError('scanner', `the upload could not be scanned: ${settlement.error.message}`)
      stored = settlement
    }
    const done = await deps.catalog.storeRemote(record.id, deps.enqueue?.length ? { ...stored, enqueue: deps.enqueue } : stored)
    if (!done) throw new MediagateError('deleted', `media ${record.id} was deleted while it was being stored`)
    return done
  } catch (err) {
    // Nothing half-stored stays: the record becomes a tombstone and bytes no one else uses go.
    await deps.catalog.markDeleted([record.id]).catch(() => {})
    if (blobKey) await deps.discardBlobs([blobKey]).catch(() => {})
    // Drained, not destroyed: the client is still sending and then reads the error.
    if (!upload.body.destroyed) {
      upload.body.unpipe()
      upload.body.resume()
    }
    throw toMediagateError(err)
  }
}

/**
 * The request body behind a stream of its own: a put that fails (too large, say) destroys what it
 * reads, and the request's own stream must survive that, so the rest of the body can be drained
 * and the client reads the answer instead of a reset connection. A client that goes away still
 * fails the put.
 */
function detached(request: Readable): Readable {
  const body = new PassThrough()
  request.pipe(body)
  request.once('error', (err) => body.destroy(err))
  request.once('close', () => {
    if (!request.readableEnded) body.destroy(new MediagateError('network', 'the client closed the connection before the whole body arrived'))
  })
  return body
}

function newOutbound(upload: OutboundUpload, declaredMime: string | null): NewMedia {
  return {
    platform: upload.platform ?? 'whatsapp',
    accountId: upload.accountId ?? '',
    messageId: '',
    attachmentIndex: 0,
    senderId: null,
    direction: 'outbound',
    kind: upload.kind ?? kindOfMime(declaredMime) ?? 'document',
    sourceType: 'upload',
    sourceMediaId: null,
    sourceUrl: null,
    sourceExpiresAt: null,
    declaredMime,
    declaredSha256: null,
    declaredSize: upload.length ?? null,
    filename: upload.filename ?? null,
    caption: null,
    voice: null,
    animated: null,
    sentAt: null,
    error: null,
  }
}
