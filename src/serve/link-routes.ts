/**
 * `POST /v1/media/{id}/links` (API key) → `{"url", "expires_at"}`, and the public
 * `GET /v1/links/{id}/content?exp&sig` that serves the same content as
 * `/v1/media/{id}/content` (Range, ETag, 304, every storage policy) to anyone holding the link.
 * A tampered, expired or wrongly keyed link is 403 `forbidden`, decided before the catalog is read.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { MediagateError } from '../errors.js'
import { apiKeyHook } from './api-auth.js'
import { type ContentDeps, loadMedia, sendContent } from './content-route.js'
import type { SingleFlight } from '../derivatives/single-flight.js'
import { contentRecord } from './stripped-content.js'
import { DEFAULT_LINK_SECONDS, type LinkSigner, MAX_LINK_SECONDS } from './signed-links.js'

export interface LinkRoutesOptions extends ContentDeps {
  apiKey: string | undefined
  signer: LinkSigner
  /** MEDIAGATE_PUBLIC_URL; without it, links point at the host the request came to. */
  publicUrl: string | undefined
  /** MEDIAGATE_STRIP_METADATA: images' content without metadata; a link never gets the original. */
  stripped?: Pick<SingleFlight, 'ensure'>
}

export async function linkRoutes(app: FastifyInstance, options: LinkRoutesOptions): Promise<void> {
  const { catalog, signer } = options
  const closing = new AbortController()
  app.addHook('onClose', async () => closing.abort(new MediagateError('network', 'the server is closing')))
  const stripped = options.stripped ? { derivations: options.stripped, signal: closing.signal } : undefined

  app.post<{ Params: { id: string } }>('/v1/media/:id/links', { onRequest: apiKeyHook(options.apiKey) }, async (request, reply) => {
    const seconds = expiresIn(request.body)
    if (!signer.enabled) throw new MediagateError('invalid_config', 'signed links need MEDIAGATE_SIGNING_SECRET or MEDIAGATE_API_KEY')
    const media = await loadMedia(catalog, request.params.id)
    if (media.status === 'deleted') throw new MediagateError('deleted', `media ${media.id} was deleted; there is nothing to link to`)
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + seconds) * 1000)
    const url = `${baseUrl(request, options.publicUrl)}${signer.path(media.id, expiresAt)}`
    return reply.code(201).header('cache-control', 'no-store').send({ url, expires_at: expiresAt.toISOString() })
  })

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/v1/links/:id/content', async (request, reply) => {
    const verdict = signer.check(request.params.id, request.query.exp, request.query.sig)
    if (verdict !== 'valid') {
      throw new MediagateError('forbidden', verdict === 'expired' ? 'this link has expired; ask for a new one' : 'this link is not valid (altered, or signed with a key this server does not have)')
    }
    const media = await loadMedia(catalog, request.params.id)
    // The link (with its signature) is the credential: do not hand it on to other sites.
    void reply.header('referrer-policy', 'no-referrer')
    return sendContent(options, await contentRecord(media, stripped), request, reply)
  })
}

function expiresIn(body: unknown): number {
  if (body === undefined || body === null) return DEFAULT_LINK_SECONDS
  if (typeof body !== 'object' || Array.isArray(body)) throw new MediagateError('bad_request', 'the body must be a JSON object such as {"expires_in": 3600}')
  const value = (body as Record<string, unknown>).expires_in
  if (value === undefined) return DEFAULT_LINK_SECONDS
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_LINK_SECONDS) {
    throw new MediagateError('bad_request', `expires_in must be a whole number of seconds from 1 to ${MAX_LINK_SECONDS} (7 days)`)
  }
  return value
}

function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`
}
