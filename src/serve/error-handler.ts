/**
 * One error shape for every route: `{"error": {"code", "message"}}` with the code's HTTP status.
 * Unexpected errors are logged with their stack and answered with a generic message, so nothing
 * internal (paths, SQL, connection strings) reaches a client.
 */
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify'
import { type ErrorCode, isMediagateError, MediagateError } from '../errors.js'

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_VALIDATION: 'bad_request',
}

const CONTENT_HEADERS = ['content-length', 'content-disposition', 'content-range', 'etag', 'accept-ranges', 'last-modified']

export function toHttpError(err: unknown): MediagateError {
  if (isMediagateError(err)) return err
  const fe = err as Partial<FastifyError>
  if (fe.validation) return new MediagateError('bad_request', fe.message ?? 'invalid request', { cause: err })
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined
  if (mapped) return new MediagateError(mapped, fe.message ?? mapped, { cause: err })
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new MediagateError('bad_request', fe.message ?? 'invalid request', { cause: err, status: fe.statusCode })
  }
  if (err instanceof SyntaxError) return new MediagateError('bad_request', 'the body is not valid JSON', { cause: err })
  return new MediagateError('internal', 'internal error', { cause: err })
}

/** Maps what a route threw to the error it answers with, logged as every route logs it. */
export function httpErrorLogged(err: unknown, log: Pick<FastifyBaseLogger, 'error' | 'info'>): MediagateError {
  const e = toHttpError(err)
  if (e.status >= 500) log.error({ err }, `request failed: ${e.code}`)
  else log.info({ code: e.code }, `request refused: ${e.message}`)
  return e
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const e = httpErrorLogged(err, request.log)
    if (e.retryAfterMs !== undefined) void reply.header('retry-after', Math.ceil(e.retryAfterMs / 1000))
    // A content route may have set the media's headers before its stream failed (before any byte
    // went out): they describe bytes that will not come, and Fastify refuses JSON under them.
    for (const header of CONTENT_HEADERS) reply.removeHeader(header)
    return reply.code(e.status).type('application/json; charset=utf-8').send({ error: { code: e.code, message: e.message } })
  })
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: { code: 'not_found', message: 'no such route' } }))
}
