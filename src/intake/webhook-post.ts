/**
 * `POST /webhooks/meta` answered on `node:http` directly, ahead of fastify (the gateway's server
 * hands this path here first). It is by far the busiest route, and fastify's own work per request
 * (routing, hooks, a reply object, content-type parsing) cost about as much CPU as a bare server's
 * whole request. What fastify gave the route is kept by hand: the request id (X-Request-Id in and
 * out, and on every log line), the body limit answered 413, fastify's 503 while the gateway
 * closes, the API's error body and logging (serve/error-handler.ts), the webhook metric and the
 * tracing span. 200 still means the webhook and its media are committed (Intake.accept).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { type Metrics, webhookResultOf } from '../metrics/metrics.js'
import { httpErrorLogged } from '../serve/error-handler.js'
import { annotateWebhook, traceWebhook } from '../tracing/index.js'
import type { Intake } from './intake.js'
import { WEBHOOK_BODY_LIMIT, WEBHOOK_PATH } from './webhook-routes.js'

export interface WebhookPostOptions {
  intake: Intake
  logger: Logger
  metrics: Metrics
  /** The gateway's request ids, shared with fastify's routes: the client's X-Request-Id, or the next of ours. */
  requestId: (req: IncomingMessage) => string
  /** True once the gateway has begun to close. */
  closing: () => boolean
  bodyLimit?: number
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void

const QUESTION_MARK = 63
const JSON_TYPE = 'application/json; charset=utf-8'
// What fastify answers on any route while closing (return503OnClosing), byte for byte.
const CLOSING_BODY = '{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}'

/** The requests this handler answers: POST on the webhook path, with or without a query string. */
export function isWebhookPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false
  const url = req.url
  return url !== undefined && url.startsWith(WEBHOOK_PATH) && (url.length === WEBHOOK_PATH.length || url.charCodeAt(WEBHOOK_PATH.length) === QUESTION_MARK)
}

export function webhookPostHandler(o: WebhookPostOptions): RequestHandler {
  const limit = o.bodyLimit ?? WEBHOOK_BODY_LIMIT

  const send = (res: ServerResponse, status: number, body: string): void => {
    if (res.headersSent || res.destroyed) return
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) }).end(body)
    o.metrics.webhook(webhookResultOf(status))
  }

  const refuse = (res: ServerResponse, log: Logger, err: unknown): void => {
    const e = httpErrorLogged(err, log)
    if (e.retryAfterMs !== undefined) res.setHeader('retry-after', Math.ceil(e.retryAfterMs / 1000))
    send(res, e.status, JSON.stringify({ error: { code: e.code, message: e.message } }))
  }

  const accept = async (req: IncomingMessage, body: Buffer, log: Logger): Promise<string> => {
    const header = req.headers['x-hub-signature-256']
    const result = await o.intake.accept(body, { signature: Array.isArray(header) ? header[0] : header, logger: log })
    annotateWebhook(result)
    return `{"received":true,"recorded":${result.created.length},"duplicates":${result.duplicates}}`
  }

  return (req, res) => {
    const requestId = o.requestId(req)
    res.setHeader('x-request-id', requestId)
    if (o.closing()) {
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': CLOSING_BODY.length, connection: 'close' }).end(CLOSING_BODY)
      o.metrics.webhook('unavailable')
      return
    }
    const log = o.logger.child({ requestId })
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > limit) return refuse(res, log, tooLarge())
    readBody(req, limit, (err, body) => {
      if (err) return refuse(res, log, err)
      traceWebhook(WEBHOOK_PATH, req.headers, () => accept(req, body!, log))
        .then(
          (answer) => send(res, 200, answer),
          (e: unknown) => refuse(res, log, e),
        )
        // Only answering itself is left to fail here (a socket gone mid-write): log it, never crash the process.
        .catch((e: unknown) => log.error({ err: e }, 'webhook answer could not be written'))
    })
  }
}

/** The body as one buffer, or an error once it passes `limit` (the rest is left for node:http to discard). */
function readBody(req: IncomingMessage, limit: number, done: (err: Error | undefined, body?: Buffer) => void): void {
  const chunks: Buffer[] = []
  let received = 0
  const stop = () => {
    req.removeListener('data', onData)
    req.removeListener('end', onEnd)
    req.removeListener('error', onError)
  }
  const onData = (chunk: Buffer) => {
    received += chunk.length
    if (received > limit) {
      stop()
      return done(tooLarge())
    }
    chunks.push(chunk)
  }
  const onEnd = () => {
    stop()
    done(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received))
  }
  // The client went away mid-body: nobody is left to answer (send() skips a destroyed response).
  const onError = (err: Error) => {
    stop()
    done(new MediagateError('bad_request', 'the request body was not received whole', { cause: err }))
  }
  req.on('data', onData)
  req.on('end', onEnd)
  req.on('error', onError)
}

function tooLarge(): MediagateError {
  return new MediagateError('payload_too_large', 'Request body is too large')
}
