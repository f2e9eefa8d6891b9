/**
 * Derivatives over HTTP: `GET /v1/media/{id}/thumbnail?size=96|320|640` (image/webp) and
 * `GET /v1/media/{id}/preview` (a browser-playable rendition, with Range), with the API key, and
 * the same through signed links (`/v1/links/{id}/thumbnail|preview?exp&sig`). They are served as
 * `/content` is (ETag from the content's sha256, 304, Range, nosniff). One that is not made yet
 * is made now, sharing the run of any derivation of the media in this process; media that cannot
 * have one answer 404 `no_thumbnail` / `no_preview` (with the reason, when deriving failed).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { BlobStore } from '../blobs/blob-store.js'
import type { DerivativeRecord, Derivatives, MediaQueries } from '../catalog/catalog.js'
import { type THUMBNAIL_SIZES, type ThumbnailSize } from '../derivatives/image.js'
import { canHaveThumbnail, derivedType } from '../derivatives/plan.js'
import type { SingleFlight } from '../derivatives/single-flight.js'
import { MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import { apiKeyHook } from './api-auth.js'
import { loadMedia, sendContent } from './content-route.js'
import type { LinkSigner } from './signed-links.js'

export interface DerivativeRoutesOptions {
  catalog: MediaQueries & Pick<Derivatives, 'derivativesOf'>
  blobs: BlobStore
  apiKey: string | undefined
  signer: LinkSigner
  derivations: Pick<SingleFlight, 'ensure'>
}

const SIZES: readonly (typeof THUMBNAIL_SIZES)[number][] = [96, 320, 640]
const DEFAULT_SIZE: ThumbnailSize = 320

type Which = 'thumbnail' | 'preview'

export async function derivativeRoutes(app: FastifyInstance, options: DerivativeRoutesOptions): Promise<void> {
  // On-demand derivations outlive no server: closing aborts them.
  const controller = new AbortController()
  app.addHook('onClose', async () => controller.abort(new MediagateError('network', 'the server is closing')))

  const serve = async (which: Which, id: string, request: FastifyRequest, reply: FastifyReply) => {
    const media = await loadMedia(options.catalog, id)
    if (media.status === 'deleted') throw new MediagateError('deleted', `media ${media.id} was deleted; only its record is kept`)
    if (media.status !== 'stored') throw new MediagateError('conflict', `media ${media.id} is ${media.status}, not stored: it has no ${which} yet`)
    if (which === 'thumbnail') return sendThumbnail(media, parseSize((request.query as Record<string, unknown>).size), request, reply)
    return sendPreview(media, request, reply)
  }

  const ready = async (media: MediaRecord, name: string): Promise<DerivativeRecord | undefined> => {
    const find = (rows: DerivativeRecord[]) => rows.find((r) => r.name === name && r.size !== null)
    return find(await options.catalog.derivativesOf(media.id)) ?? find(await options.derivations.ensure(media, controller.signal))
  }

  const reason = async (media: MediaRecord): Promise<string> => {
    const fresh = await options.catalog.get(media.id)
    return fresh?.derivatives?.error ? ` (${fresh.derivatives.error})` : ''
  }

  const sendThumbnail = async (media: MediaRecord, size: ThumbnailSize, request: FastifyRequest, reply: FastifyReply) => {
    if (!canHaveThumbnail(media)) throw new MediagateError('no_thumbnail', `media ${media.id} (${media.sniffedMime ?? 'unknown type'}) cannot have a thumbnail`)
    const row = await ready(media, `thumb${size}`)
    if (!row) throw new MediagateError('no_thumbnail', `no thumbnail could be made for media ${media.id}${await reason(media)}`)
    return sendContent({ catalog: options.catalog, blobs: options.blobs }, asContent(media, row), request, reply)
  }

  const sendPreview = async (media: MediaRecord, request: FastifyRequest, reply: FastifyReply) => {
    const type = derivedType(media)
    if (type !== 'audio' && type !== 'video') throw new MediagateError('no_preview', `media ${media.id} (${media.sniffedMime ?? 'unknown type'}) is not audio or video`)
    const row = await ready(media, 'preview')
    if (row) return sendContent({ catalog: options.catalog, blobs: options.blobs }, asContent(media, row), request, reply)
    // Derived without a preview: the original plays in browsers as it is (H.264/AAC or AAC in MP4).
    const fresh = await options.catalog.get(media.id)
    if (fresh?.status === 'stored' && fresh.derivatives?.status === 'done') return sendContent({ catalog: options.catalog, blobs: options.blobs }, fresh, request, reply)
    throw new MediagateError('no_preview', `no playable preview could be made for media ${media.id}${await reason(media)}`)
  }

  for (const which of ['thumbnail', 'preview'] as const) {
    app.get<{ Params: { id: string } }>(`/v1/media/:id/${which}`, { onRequest: apiKeyHook(options.apiKey) }, async (request, reply) => serve(which, request.params.id, request, reply))
    app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>(`/v1/links/:id/${which}`, async (request, reply) => {
      const verdict = options.signer.check(request.params.id, request.query.exp, request.query.sig)
      if (verdict !== 'valid') {
        throw new MediagateError('forbidden', verdict === 'expired' ? 'this link has expired; ask for a new one' : 'this link is not valid (altered, or signed with a key this server does not have)')
      }
      void reply.header('referrer-policy', 'no-referrer')
      return serve(which, request.params.id, request, reply)
    })
  }
}

function parseSize(raw: unknown): ThumbnailSize {
  if (raw === undefined) return DEFAULT_SIZE
  const size = Number(raw)
  const found = SIZES.find((s) => s === size)
  if (found === undefined || typeof raw !== 'string') throw new MediagateError('bad_request', `size must be one of ${SIZES.join(', ')} (the longest side in pixels)`)
  return found
}

/** The record as sendContent sees it, pointing at a derivative's blob (ETag: its sha256, the key's last part). */
export function asContent(media: MediaRecord, row: DerivativeRecord): MediaRecord {
  return {
    ...media,
    status: 'stored',
    blobKey: row.blobKey,
    sha256: row.blobKey.split('/').at(-1) ?? null,
    size: row.size,
    mimeType: row.mimeType,
    sniffedMime: row.mimeType,
    filename: null,
  }
}
