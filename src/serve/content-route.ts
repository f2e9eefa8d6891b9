/**
 * `GET /v1/media/{id}/content`: the stored bytes, with the headers clients and browsers rely on
 * (ETag = sha256, Range → 206, If-None-Match → 304) and the inline/attachment rule of
 * content-headers.ts. Small content is read into one buffer (SMALL_CONTENT_BYTES); anything
 * larger streams from the blob store, so memory does not grow with the file.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import type { BlobStore, ByteRange } from '../blobs/blob-store.js'
import type { MediaQueries } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import { resolveRange } from './byte-range.js'
import { contentDisposition, defaultFilename, isInlineSafe, safeFilename } from './content-headers.js'

/** Serves records whose bytes are still at Meta (storage policies `lazy` and `proxy`). */
export interface RemoteContentHandler {
  send(media: MediaRecord, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>
}

export interface ContentDeps {
  catalog: MediaQueries
  blobs: BlobStore
  /** Without it, remote records answer 409 like any record that is not stored. */
  remote?: RemoteContentHandler
}

export async function loadMedia(catalog: MediaQueries, id: string): Promise<MediaRecord> {
  const media = await catalog.get(id)
  if (!media) throw new MediagateError('not_found', `no media with id ${JSON.stringify(id.slice(0, 64))}`)
  return media
}

export async function sendContent(deps: ContentDeps, media: MediaRecord, request: FastifyRequest, reply: FastifyReply) {
  if (media.status === 'deleted') {
    throw new MediagateError('deleted', `media ${media.id} was deleted${media.deletedAt ? ` at ${media.deletedAt.toISOString()}` : ''}; only its record is kept`)
  }
  if (media.status === 'remote' && deps.remote) return deps.remote.send(media, request, reply)
  if (media.status !== 'stored' || !media.blobKey || !media.sha256 || media.size === null) {
    const detail = media.error ? ` (${media.error.code}: ${media.error.message})` : ''
    return reply.code(409).send({
      error: { code: 'conflict', message: `media ${media.id} is ${media.status}, not stored${detail}` },
      status: media.status,
    })
  }
  const etag = `"${media.sha256}"`
  setContentHeaders(reply, media, media.mimeType, media.sniffedMime)
  reply.header('etag', etag)

  if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send()

  if (deps.blobs.capabilities.redirect && deps.blobs.presignGet) {
    // MEDIAGATE_S3_REDIRECT: the client fetches the bytes (Range included) from the store itself,
    // through a URL that carries the same type and disposition and expires in minutes.
    const url = await deps.blobs.presignGet(media.blobKey, {
      expiresInSeconds: PRESIGNED_URL_SECONDS,
      contentType: String(reply.getHeader('content-type')),
      contentDisposition: String(reply.getHeader('content-disposition')),
    })
    reply.removeHeader('content-disposition')
    reply.removeHeader('content-type')
    return reply.code(302).header('location', url).header('cache-control', 'no-store').send()
  }

  const ifRange = request.headers['if-range']
  const rangeHeader = ifRangeAllows(Array.isArray(ifRange) ? ifRange[0] : ifRange, etag) ? request.headers.range : undefined
  const range = resolveRange(rangeHeader, media.size)
  if (range.kind === 'unsatisfiable') {
    reply.removeHeader('content-disposition')
    return reply
      .code(416)
      .header('content-range', `bytes */${media.size}`)
      .type('application/json; charset=utf-8')
      .send({ error: { code: 'bad_request', message: 'range not satisfiable' } })
  }
  if (range.kind === 'range') {
    const { start, end } = range.range
    const body = await readContent(deps.blobs, media.blobKey, start, end - start + 1, range.range)
    return reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${media.size}`)
      .header('content-length', end - start + 1)
      .send(body)
  }
  const body = await readContent(deps.blobs, media.blobKey, 0, media.size)
  return reply.code(200).header('content-length', media.size).send(body)
}

/**
 * Up to this many bytes are read into one buffer instead of streamed: for a photo or a voice
 * note, a stream's setup and its per-chunk round trips cost more than the bytes, and a buffer
 * is written to the socket at once. Memory stays bounded: this much per request in flight.
 */
export const SMALL_CONTENT_BYTES = 256 * 1024

function readContent(blobs: BlobStore, key: string, start: number, length: number, range?: ByteRange): Promise<Buffer | Readable> {
  if (blobs.readBytes && length <= SMALL_CONTENT_BYTES) return blobs.readBytes(key, start, length)
  return blobs.read(key, range)
}

/**
 * The headers of every content answer, stored or not: type, disposition (inline only for
 * sniffed-safe types), nosniff, and a sandboxing CSP for attachments.
 */
const PRESIGNED_URL_SECONDS = 300

export function setContentHeaders(reply: FastifyReply, media: Pick<MediaRecord, 'id' | 'filename'>, servedType: string | null, sniffedMime: string | null): void {
  const type = servedType ?? 'application/octet-stream'
  const inline = isInlineSafe(type, sniffedMime)
  reply
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'private, max-age=3600')
    .header('x-content-type-options', 'nosniff')
    .header('content-type', type)
    .header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', safeFilename(media.filename, defaultFilename(media.id, type))))
  if (!inline) reply.header('content-security-policy', "default-src 'none'; sandbox")
}

export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}

/** `If-Range` with a different validator means "send the whole thing". */
export function ifRangeAllows(header: string | undefined, etag: string): boolean {
  return header === undefined || header.trim() === etag
}
