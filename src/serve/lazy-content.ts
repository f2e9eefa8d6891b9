/**
 * Content under the `lazy` storage policy. The first request for a record still `remote`
 * resolves the media id and streams the bytes to the client while writing them to the blob
 * store (one download, backpressure from both); the record becomes `stored` only once the blob
 * store verified the bytes, and the client's response ends only then (a mismatch cuts it short).
 * Later requests are served from the store. A range request or HEAD first captures the whole
 * media, then answers from the store. Concurrent first requests share one download.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { pipeline } from 'node:stream'
import type { BlobStore } from '../blobs/blob-store.js'
import { captureLazy, type LazyCaptureDeps, settleLazy, webhookUrlFresh } from '../capture/capture-lazy.js'
import { openSource } from '../capture/capture-media.js'
import { EndGate } from '../capture/end-gate.js'
import { peekHead } from '../capture/peek-head.js'
import { chooseServedType, sniffMime } from '../capture/sniff.js'
import { tee } from '../capture/tee.js'
import { toMediagateError } from '../errors.js'
import { assertWithinLimit } from '../fetch/index.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'
import { type ContentDeps, loadMedia, sendContent, setContentHeaders } from './content-route.js'
import { SNIFF_BYTES } from './proxy-content.js'

export interface LazyContentDeps extends LazyCaptureDeps {
  blobs: BlobStore
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
      const settled = await running.catch(() => undefined)
      const current = settled ?? (await loadMedia(this.deps.catalog, media.id))
      if (current.status !== 'remote') return sendContent(this.content, current, request, reply)
    }
    if (request.headers.range !== undefined || request.method === 'HEAD') {
      return sendContent(this.content, await this.capture(media), request, reply)
    }
    return this.streamWhileStoring(media, reply)
  }

  /** Captures the record now (or joins the capture already running) and returns it stored. */
  capture(media: MediaRecord): Promise<MediaRecord> {
    return this.inflight.get(media.id) ?? this.track(media.id, captureLazy(media, this.deps, this.signal))
  }

  private async streamWhileStoring(media: MediaRecord, reply: FastifyReply): Promise<FastifyReply> {
    // Registered before the first await: a request arriving meanwhile waits instead of downloading too.
    let outcome!: { resolve: (record: MediaRecord) => void; reject: (err: unknown) => void }
    const stored = this.track(media.id, new Promise<MediaRecord>((resolve, reject) => (outcome = { resolve, reject })))
    let gate: EndGate
    try {
      gate = await this.openAndStore(media, reply, outcome, stored)
    } catch (err) {
      outcome.reject(err)
      throw err
    }
    const { logger } = this.deps
    stored.then(
      (record) => logger.info({ mediaId: record.id, size: record.size, sha256: record.sha256 }, 'lazy media stored on first request'),
      (err: unknown) => {
        const e = toMediagateError(err)
        logger.warn({ mediaId: media.id, code: e.code }, `lazy capture failed: ${e.message}`)
        // The client must not get a complete-looking body for bytes that were not verified.
        gate.destroy(e)
      },
    )
    return reply.code(200).send(gate)
  }

  /** Opens the source, starts the put on one branch of the bytes, and returns the client's branch. */
  private async openAndStore(
    media: MediaRecord,
    reply: FastifyReply,
    outcome: { resolve: (record: MediaRecord) => void; reject: (err: unknown) => void },
    stored: Promise<MediaRecord>,
  ): Promise<EndGate> {
    const { capture, blobs } = this.deps
    const opened = await openSource(media, capture, this.signal, { tryWebhookUrl: webhookUrlFresh(media) })
    const { response } = opened
    assertWithinLimit(response, capture.maxBytes)
    const { head, body } = await peekHead(response.body, SNIFF_BYTES)
    const sniffed = await sniffMime(head)
    const servedType = chooseServedType(opened.declaredMime, sniffed)
    const [toStore, toClient] = tee(body)
    blobs
      .put(toStore, {
        maxBytes: capture.maxBytes,
        expectedSha256: opened.expectedSha256,
        expectedSize: opened.expectedSize,
        ...(opened.declaredMime ? { contentType: opened.declaredMime } : {}),
        signal: this.signal,
      })
      .then((put) =>
        settleLazy(
          media,
          { status: 'stored', sha256: put.sha256, size: put.size, blobKey: put.key, sniffedMime: sniffed, mimeType: servedType, storedAt: new Date() },
          this.deps,
        ),
      )
      .then(outcome.resolve, outcome.reject)
    const gate = new EndGate(() => stored)
    pipeline(toClient, gate, () => {})
    setContentHeaders(reply, media, servedType, sniffed)
    const length = response.contentLength ?? opened.expectedSize
    if (length !== undefined) reply.header('content-length', length)
    return gate
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
