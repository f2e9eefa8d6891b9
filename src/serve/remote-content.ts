/**
 * Serves records whose bytes are still at Meta, by their storage policy: `lazy` captures on the
 * first request (lazy-content.ts), `proxy` streams through every time (proxy-content.ts). From
 * the client's side both behave like stored content: same headers, Range, ETag once known, and
 * 410 `source_expired` once Meta no longer has the media.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { BlobStore } from '../blobs/blob-store.js'
import type { LazyCaptureDeps } from '../capture/capture-lazy.js'
import type { RemoteMedia } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'
import type { ContentDeps, RemoteContentHandler } from './content-route.js'
import type { SourceDeps } from '../transfer/open-source.js'
import { LazyContent } from './lazy-content.js'
import { type ProxyDeps, sendProxied } from './proxy-content.js'

export interface RemoteContentDeps {
  catalog: ContentDeps['catalog'] & RemoteMedia
  blobs: BlobStore
  sources: SourceDeps
  leaser: LazyCaptureDeps['leaser']
  logger: Logger
  /** Deletes blobs no live record uses (a lazy record deleted while its capture ran). */
  discardBlobs: (keys: string[]) => Promise<void>
  /** Task kinds queued when a lazy record becomes stored. */
  enqueue?: string[]
  /** Malware scanning: lazy media are scanned before anything is served (lazy-content.ts). */
  scan?: LazyCaptureDeps['scan']
}

export class RemoteContent implements RemoteContentHandler {
  private readonly controller = new AbortController()
  private readonly lazy: LazyContent
  private readonly proxy: ProxyDeps

  constructor(deps: RemoteContentDeps) {
    const { catalog, blobs, sources, leaser, logger, discardBlobs } = deps
    this.lazy = new LazyContent({ catalog, blobs, sources, leaser, logger, discardBlobs, ...(deps.enqueue ? { enqueue: deps.enqueue } : {}), ...(deps.scan ? { scan: deps.scan } : {}) }, { catalog, blobs, remote: this }, this.controller.signal)
    this.proxy = { catalog, sources, logger }
  }

  send(media: MediaRecord, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (this.controller.signal.aborted) throw new MediagateError('conflict', 'the gateway is shutting down')
    if (media.policy === 'lazy') return this.lazy.send(media, request, reply)
    return sendProxied(this.proxy, media, request, reply, this.controller.signal)
  }

  /** Aborts downloads in flight (shutdown). */
  close(): void {
    this.controller.abort(new MediagateError('network', 'the gateway is shutting down'))
  }
}
