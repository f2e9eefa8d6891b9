/**
 * Outbound media (src/outbound): `POST /v1/media` stores what the user's app posts (the raw body
 * with its Content-Type, or the `file` field of a multipart/form-data body), `POST /v1/media/{id}/handles` hands out a Meta handle for it (cached,
 * uploaded once per account), `GET /v1/media/{id}/handles` lists the cached ones.
 */
import type { FastifyInstance } from 'fastify'
import type { Readable } from 'node:stream'
import type { MediaQueries } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import { PLATFORMS, type Platform } from '../media/record.js'
import { type HandleAnswer, parseHandleRequest, type HandleService } from '../outbound/handles.js'
import { parseKind, storeOutbound, type StoreOutboundDeps } from '../outbound/store-outbound.js'
import { boundaryOf, multipartFile } from '../outbound/multipart-file.js'
import type { MediaHandle } from '../catalog/catalog.js'
import { apiKeyHook } from './api-auth.js'
import { loadMedia } from './content-route.js'
import { presentMedia } from './present-media.js'

export interface OutboundRoutesOptions {
  catalog: MediaQueries
  store: StoreOutboundDeps
  handles: HandleService
  apiKey: string | undefined
}

export async function outboundRoutes(app: FastifyInstance, options: OutboundRoutesOptions): Promise<void> {
  app.addHook('onRequest', apiKeyHook(options.apiKey))
  const closing = new AbortController()
  app.addHook('onClose', async () => closing.abort(new MediagateError('network', 'the server is closing')))

  // The upload reads its body as a stream, whatever its type: its own scope, so no other route's parsing changes.
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers()
    raw.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    raw.post<{ Querystring: Record<string, unknown> }>('/v1/media', async (request, reply) => {
      const q = request.query
      const body = request.body as Readable | undefined
      if (!body || typeof (body as Readable).pipe !== 'function') throw new MediagateError('bad_request', 'send the media as the request body, with its Content-Type')
      let contentMime = request.headers['content-type'] ?? null
      let length = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length'])
      let upload: Readable = body
      let partName: string | null = null
      if (contentMime && /^multipart\/form-data/i.test(contentMime)) {
        // The `file` field, streamed; its own Content-Type and filename stand in for the request's.
        const file = multipartFile(body, boundaryOf(contentMime))
        const headers = await file.headers
        upload = file.body
        contentMime = headers.contentType
        partName = headers.filename
        length = undefined
      }
      const platform = parsePlatform(q.platform)
      const kind = parseKind(q.kind)
      const record = await storeOutbound(
        {
          body: upload,
          declaredMime: contentMime,
          ...(length !== undefined && Number.isSafeInteger(length) ? { length } : {}),
          filename: typeof q.filename === 'string' ? q.filename.slice(0, 255) : partName ? partName.slice(0, 255) : null,
          ...(kind ? { kind } : {}),
          ...(platform ? { platform } : {}),
          ...(typeof q.account_id === 'string' ? { accountId: q.account_id.slice(0, 64) } : {}),
        },
        options.store,
        closing.signal,
      )
      return reply.code(201).send(presentMedia(record))
    })
  })

  app.post<{ Params: { id: string } }>('/v1/media/:id/handles', async (request) => {
    const handleRequest = parseHandleRequest(request.body)
    const media = await loadMedia(options.catalog, request.params.id)
    return presentAnswer(await options.handles.handleFor(media, handleRequest, closing.signal))
  })

  app.get<{ Params: { id: string } }>('/v1/media/:id/handles', async (request) => {
    const media = await loadMedia(options.catalog, request.params.id)
    return { data: (await options.handles.handlesOf(media)).map(presentHandle) }
  })
}

function parsePlatform(value: unknown): Platform | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !(PLATFORMS as readonly string[]).includes(value)) throw new MediagateError('bad_request', `platform must be one of ${PLATFORMS.join(', ')}`)
  return value as Platform
}

export function presentHandle(h: MediaHandle) {
  return { platform: h.platform, account_id: h.accountId, handle: h.handle, expires_at: h.expiresAt.toISOString(), mime_type: h.mimeType, size: h.size, sha256: h.sha256, variant: h.variant, created_at: h.createdAt.toISOString() }
}

function presentAnswer(a: HandleAnswer) {
  const h = a.handle
  return { platform: h.platform, account_id: h.accountId, handle: h.handle, expires_at: h.expiresAt.toISOString(), reused: a.reused, converted: a.converted, mime_type: h.mimeType, size: h.size, sha256: h.sha256 }
}
