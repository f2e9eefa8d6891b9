/**
 * Serves records whose bytes are still at Meta, by their storage policy: `lazy` captures on the
 * first request (lazy-content.ts), `proxy` streams through every time (proxy-content.ts). From
 * the client's side both behave like stored content: same headers, Range, ETag once known, and
 * 410 `source_expired` once Meta no longer has the media.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import type { RemoteContentHandler } from './content-route.js'
import { LazyContent, type LazyContentDeps } from './lazy-content.js'
import { sendProxied } from './proxy-content.js'

export class RemoteContent implements RemoteContentHandler {
  private readonly controller = new AbortController()
  private readonly lazy: LazyContent

  constructor(private readonly deps: LazyContentDeps) {
    this.lazy = new LazyContent(deps, { catalog: deps.catalog, blobs: deps.blobs, remote: this }, this.controller.signal)
  }

  send(media: MediaRecord, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (this.controller.signal.aborted) throw new MediagateError('conflict', 'the gateway is shutting down')
    if (media.policy === 'lazy') return this.lazy.send(media, request, reply)
    return sendProxied(this.deps, media, request, reply, this.controller.signal)
  }

  /** Aborts downloads in flight (shutdown). */
  close(): void {
    this.controller.abort(new MediagateError('network', 'the gateway is shutting down'))
  }
}
