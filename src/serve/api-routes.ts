/** The /v1 API: list, count, get, content, retry and release of media records. JSON in snake_case. */
import type { FastifyInstance } from 'fastify'
import type { BlobStore } from '../blobs/blob-store.js'
import type { MediaQueries, ScanVerdicts } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import { apiKeyHook } from './api-auth.js'
import { loadMedia, type RemoteContentHandler, sendContent } from './content-route.js'
import { parseCountQuery, parseListQuery } from './list-query.js'
import { presentMedia } from './present-media.js'
import type { SingleFlight } from '../derivatives/single-flight.js'
import { contentRecord } from './stripped-content.js'
import { releaseInfected } from '../scanning/rescan.js'
import { retryRefusal } from '../media/retry-rules.js'

/** `GET /v1/media/count` counts this many records exactly, and answers `capped` beyond (as a batch acts on at most this many). */
export const COUNT_CAP = 10_000

export interface ApiRoutesOptions {
  catalog: MediaQueries & ScanVerdicts
  blobs: BlobStore
  apiKey: string | undefined
  /** Deletes blobs no live record uses (the eraser's `discard`): a released media's quarantined copy. */
  discardBlobs: (keys: string[]) => Promise<unknown>
  /** Serves media under the lazy and proxy storage policies. */
  remote?: RemoteContentHandler
  /** MEDIAGATE_STRIP_METADATA: images' content without metadata (stripped-content.ts). */
  stripped?: Pick<SingleFlight, 'ensure'>
}

export async function apiRoutes(app: FastifyInstance, options: ApiRoutesOptions): Promise<void> {
  const { catalog, blobs } = options
  app.addHook('onRequest', apiKeyHook(options.apiKey))

  app.get('/v1/media', async (request) => {
    const q = parseListQuery(request.query as Record<string, unknown>)
    const page = await catalog.list(q.filter, { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) })
    return { data: page.data.map(presentMedia), next_cursor: page.nextCursor }
  })

  // Static, so it wins over /v1/media/:id.
  app.get('/v1/media/count', async (request) => {
    const filter = parseCountQuery(request.query as Record<string, unknown>)
    return catalog.count(filter, { atMost: COUNT_CAP })
  })

  app.get<{ Params: { id: string } }>('/v1/media/:id', async (request) => presentMedia(await loadMedia(catalog, request.params.id)))

  const closing = new AbortController()
  app.addHook('onClose', async () => closing.abort(new MediagateError('network', 'the server is closing')))
  const stripped = options.stripped ? { derivations: options.stripped, signal: closing.signal } : undefined

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/v1/media/:id/content', async (request, reply) => {
    const media = await loadMedia(catalog, request.params.id)
    const original = request.query.original === '1' || request.query.original === 'true'
    const served = original ? media : await contentRecord(media, stripped)
    return sendContent({ catalog, blobs, ...(options.remote ? { remote: options.remote } : {}) }, served, request, reply)
  })

  app.post<{ Params: { id: string } }>('/v1/media/:id/retry', async (request, reply) => {
    const media = await loadMedia(catalog, request.params.id)
    const refusal = retryRefusal(media)
    if (refusal !== undefined) throw new MediagateError('conflict', `media ${media.id} cannot be retried: ${refusal}`)
    await catalog.requeue({ ids: [media.id] })
    return reply.code(202).send(presentMedia(await loadMedia(catalog, media.id)))
  })

  // After review: an infected media was a false positive (as `mediagate scan --release`).
  app.post<{ Params: { id: string } }>('/v1/media/:id/release', async (request, reply) => {
    const media = await loadMedia(catalog, request.params.id)
    const released = await releaseInfected({ catalog, blobs: options.blobs, discardBlobs: options.discardBlobs }, media.id)
    return reply.code(200).send(presentMedia(released))
  })
}
