/**
 * Content under the `proxy` storage policy: nothing is stored; every request fetches from Meta
 * (WhatsApp by the id's URL, resolved again once the last one is minutes old, see
 * whatsapp-urls.ts; Messenger/Instagram while the CDN URL lives) and streams through. Range is
 * passed on to Meta. A full pass is hashed on the way: it is checked against
 * what Meta declared (or what an earlier pass found), and the verified sha256, size and type are
 * noted on the record, so later answers carry an ETag and `If-None-Match` needs no trip to Meta.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RemoteMedia } from '../catalog/catalog.js'
import { MediagateError, isMediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'
import { toClientVerified } from '../transfer/destinations.js'
import { openSource, type OpenedSource, type SourceDeps, webhookUrlFresh } from '../transfer/open-source.js'
import { sniffOpened } from '../transfer/sniffed-source.js'
import { resolveRange } from './byte-range.js'
import { etagMatches, ifRangeAllows, setContentHeaders } from './content-route.js'
import { whileServerWorks } from './idle-hold.js'

export interface ProxyDeps {
  catalog: Pick<RemoteMedia, 'learnRemote'>
  sources: SourceDeps
  logger: Logger
}

type WantedRange = { start: number; end?: number }

export async function sendProxied(deps: ProxyDeps, media: MediaRecord, request: FastifyRequest, reply: FastifyReply, signal: AbortSignal): Promise<FastifyReply> {
  const etag = media.sha256 ? `"${media.sha256}"` : undefined
  if (etag && etagMatches(request.headers['if-none-match'], etag)) {
    setContentHeaders(reply, media, media.mimeType, media.sniffedMime)
    return reply.header('etag', etag).code(304).send()
  }
  const wanted = wantedRange(media, request, etag)
  if (wanted === 'unsatisfiable') return unsatisfiable(reply, media.size)
  let opened: OpenedSource
  try {
    const options = { tryWebhookUrl: webhookUrlFresh(media), reuseUrl: true, ...(wanted ? { range: wanted } : {}) }
    opened = await whileServerWorks(request, openSource(media, deps.sources, signal, options))
  } catch (err) {
    if (wanted && isMediagateError(err) && err.vendorCode === 416) return unsatisfiable(reply, media.size)
    throw err
  }
  const { response } = opened
  if (response.status === 206 && wanted) return sendSlice(media, opened, reply, etag)
  if (response.status !== 200) {
    response.body.destroy()
    throw new MediagateError('upstream', `Meta answered the download with HTTP ${response.status}`, { vendorCode: response.status })
  }
  return sendWhole(deps, media, opened, reply, etag)
}

function wantedRange(media: MediaRecord, request: FastifyRequest, etag: string | undefined): WantedRange | 'unsatisfiable' | undefined {
  const header = request.headers.range
  if (!header) return undefined
  const ifRange = request.headers['if-range']
  const validator = Array.isArray(ifRange) ? ifRange[0] : ifRange
  // Without an ETag yet, any If-Range validator is one we cannot match: send everything.
  if (validator !== undefined && (etag === undefined || !ifRangeAllows(validator, etag))) return undefined
  if (media.size !== null) {
    const range = resolveRange(header, media.size)
    if (range.kind === 'unsatisfiable') return 'unsatisfiable'
    return range.kind === 'range' ? range.range : undefined
  }
  // Size unknown until a first full pass: pass on `bytes=a-b` and `bytes=a-`; a suffix range
  // (`bytes=-n`) needs the size, so it gets the whole body, as RFC 9110 allows.
  const match = /^bytes=(\d{1,15})-(\d{0,15})$/.exec(header.trim())
  if (!match) return undefined
  const start = Number(match[1])
  const end = match[2] ? Number(match[2]) : undefined
  if (end !== undefined && end < start) return undefined
  return end === undefined ? { start } : { start, end }
}

function sendSlice(media: MediaRecord, opened: OpenedSource, reply: FastifyReply, etag: string | undefined): FastifyReply {
  const { response } = opened
  const contentRange = headerValue(response.headers['content-range']) ?? ''
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange)
  if (!match) {
    response.body.destroy()
    throw new MediagateError('upstream', 'Meta answered a range request with 206 but no usable Content-Range')
  }
  setContentHeaders(reply, media, media.mimeType ?? opened.declaredMime, media.sniffedMime)
  if (etag) reply.header('etag', etag)
  return reply
    .code(206)
    .header('content-range', contentRange)
    .header('content-length', Number(match[2]) - Number(match[1]) + 1)
    .send(response.body)
}

async function sendWhole(deps: ProxyDeps, media: MediaRecord, opened: OpenedSource, reply: FastifyReply, etag: string | undefined): Promise<FastifyReply> {
  const source = await sniffOpened(opened, deps.sources.maxBytes)
  const client = toClientVerified(source, {
    maxBytes: deps.sources.maxBytes,
    // What an earlier pass verified, else what Meta declared: the bytes must match either way.
    expectedSha256: media.sha256 ?? undefined,
    expectedSize: media.size ?? undefined,
    onVerified: async (facts) => {
      if (facts.sha256 === media.sha256 && facts.size === media.size && media.sniffedMime === facts.sniffedMime) return
      await deps.catalog.learnRemote(media.id, facts).catch((err: unknown) => deps.logger.warn({ err, mediaId: media.id }, 'could not note what a proxy pass verified'))
    },
    onError: (err) => {
      if (!isMediagateError(err) || err.code !== 'integrity') return
      deps.logger.warn({ mediaId: media.id, code: err.code }, `proxied media failed verification: ${err.message}`)
      // What Meta declared may be what was wrong: the next request asks again rather than reuse it.
      if (media.platform === 'whatsapp' && media.sourceMediaId) deps.sources.whatsappUrls?.forgetMedia(media.accountId, media.sourceMediaId)
    },
  })
  setContentHeaders(reply, media, source.servedType, source.sniffedMime)
  if (etag) reply.header('etag', etag)
  if (opened.response.contentLength !== undefined) reply.header('content-length', opened.response.contentLength)
  return reply.code(200).send(client)
}

function unsatisfiable(reply: FastifyReply, size: number | null): FastifyReply {
  if (size !== null) reply.header('content-range', `bytes */${size}`)
  return reply
    .code(416)
    .type('application/json; charset=utf-8')
    .send({ error: { code: 'bad_request', message: 'range not satisfiable' } })
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
