/**
 * Content under the `lazy` storage policy. The first request for a record still `remote`
 * resolves the media id and streams the bytes to the client while writing them to the blob
 * store (one download, paced by the store); the record becomes `stored` only once the blob
 * store verified the bytes, and the client's response ends only then (a mismatch cuts it short).
 * A first client slower than Meta never holds the download: past CLIENT_LAG_BYTES behind, it gets
 * the rest from the stored blob. Later requests are served from the store. A range request or
 * HEAD first captures the whole media, then answers from the store. Concurrent first requests
 * share one download.
 *
 * With malware scanning on, no client may receive bytes before their clean scan: every first
 * request captures (download, store, scan) and then answers from the store, as a range request
 * does. Infected media answer like any media not stored; clamd down fails the request with 503
 * `scanner` and the record stays `remote`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { captureLazy, type LazyCaptureDeps, lazyCaptureDeps, settleLazy } from '../capture/capture-lazy.js'
import { toMediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'
import { toBlobStoreAndClient } from '../transfer/destinations.js'
import { webhookUrlFresh } from '../transfer/open-source.js'
import { openSniffed } from '../transfer/sniffed-source.js'
import { type ContentDeps, loadMedia, sendContent, setContentHeaders } from './content-route.js'
import { holdIdleTimeout, whileServerWorks } from './idle-hold.js'

/**
 * How far the first client may fall behind the download before it is fed from the store instead.
 * This is the memory a slow first client costs; past it the client waits for the capture to end
 * (Meta's pace, not its own) and then reads the rest from the blob, so a small value costs little.
 */
export const CLIENT_LAG_BYTES = 2 * 1024 * 1024

export interface LazyContentDeps extends LazyCaptureDeps {
  logger: Logger
}

export class LazyContent {
  /** Captures running in this process, by media id. */
  private readonly inflight = new Map<string, Promise<MediaRecord>>()

  constructor(
    private readonly deps: LazyContentDeps,
    private readonly content: ContentDeps,
    private readonly signal: AbortSignal,
  ) {}

  async send(media: MediaRecord, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const running = this.inflight.get(media.id)
    if (running) {
      const settled = await whileServerWorks(request, running.catch(() => undefined))
      const current = settled ?? (await loadMedia(this.content.catalog, media.id))
      if (current.status !== 'remote') return sendContent(this.content, current, request, reply)
    }
    if (this.deps.scan || request.headers.range !== undefined || request.method === 'HEAD') {
      return sendContent(this.content, await whileServerWorks(request, this.capture(media)), request, reply)
    }
    return this.streamWhileStoring(media, request, reply)
  }

  /** Captures the record now (or joins the capture already running) and returns it stored (or failed by its scan). */
  capture(media: MediaRecord): Promise<MediaRecord> {
    return this.inflight.get(media.id) ?? this.track(media.id, captureLazy(media, this.deps, this.signal))
  }

  private async streamWhileStoring(media: MediaRecord, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    // Registered before the first await: a request arriving meanwhile waits instead of downloading too.
    let outcome!: { resolve: (record: MediaRecord) => void; reject: (err: unknown) => void }
    const stored = this.track(media.id, new Promise<MediaRecord>((resolve, reject) => (outcome = { resolve, reject })))
    const { logger } = this.deps
    const capture = lazyCaptureDeps(media, this.deps, this.signal)
    let transfer: ReturnType<typeof toBlobStoreAndClient<MediaRecord>>
    let source: Awaited<ReturnType<typeof openSniffed>>
    // Until the capture settles, a quiet connection may be the server's doing (the store sets the
    // pace, the end waits for the verdict, a client that fell behind waits for the blob); the
    // download deadline bounds that. After it, only the client's reading is left to wait for.
    const release = holdIdleTimeout(request)
    stored.then(release, release)
    try {
      source = await openSniffed(media, capture.sources, this.signal, { tryWebhookUrl: webhookUrlFresh(media) })
      const options = { maxBytes: capture.sources.maxBytes, signal: this.signal, client: { maxLagBytes: CLIENT_LAG_BYTES } }
      transfer = toBlobStoreAndClient(source, capture.blobs, options, (outcome) => settleLazy(media, outcome, this.deps))
    } catch (err) {
      outcome.reject(err)
      throw err
    }
    transfer.done.then(outcome.resolve, outcome.reject)
    stored.then(
      (record) => logger.info({ mediaId: record.id, size: record.size, sha256: record.sha256 }, 'lazy media stored on first request'),
      (err: unknown) => {
        const e = toMediagateError(err)
        logger.warn({ mediaId: media.id, code: e.code }, `lazy capture failed: ${e.message}`)
      },
    )
    setContentHeaders(reply, media, source.servedType, source.sniffedMime)
    if (source.length !== undefined) reply.header('content-length', source.length)
    return reply.code(200).send(transfer.client)
  }

  private track(id: string, work: Promise<MediaRecord>): Promise<MediaRecord> {
    this.inflight.set(id, work)
    work.then(
      () => this.inflight.delete(id),
      () => this.inflight.delete(id),
    )
    return work
  }
}
