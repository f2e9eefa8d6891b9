/**
 * `GET|POST /webhooks/meta`. The POST body is taken as raw bytes (the signature covers exactly
 * those bytes; re-serialized JSON would not match), capped at 4 MiB (Meta sends at most 3 MB).
 * 200 means "durably recorded": Meta retries anything else, so an error here is never a loss.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Logger } from '../logging/logger.js'
import type { Intake } from './intake.js'
import { annotateWebhook, traceWebhook } from '../tracing/index.js'

export const WEBHOOK_PATH = '/webhooks/meta'
export const WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024

export interface WebhookRoutesOptions {
  intake: Intake
  verifyToken: string | undefined
}

export async function webhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): Promise<void> {
  // Encapsulated: only these routes see raw buffers; the /v1 API keeps fastify's JSON parser.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body))

  app.get(WEBHOOK_PATH, async (request, reply) => {
    const q = request.query as Record<string, unknown>
    const mode = q['hub.mode']
    const token = q['hub.verify_token']
    const challenge = q['hub.challenge']
    if (mode === 'subscribe' && typeof token === 'string' && typeof challenge === 'string' && tokenMatches(token, options.verifyToken)) {
      return reply.code(200).type('text/plain; charset=utf-8').send(challenge)
    }
    request.log.warn('webhook handshake refused: wrong mode or verify token')
    return reply.code(403).type('text/plain; charset=utf-8').send('Forbidden')
  })

  app.post(WEBHOOK_PATH, { bodyLimit: WEBHOOK_BODY_LIMIT }, (request, reply) =>
    traceWebhook(WEBHOOK_PATH, request.headers, async () => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const header = request.headers['x-hub-signature-256']
      const result = await options.intake.accept(body, { signature: Array.isArray(header) ? header[0] : header, logger: request.log as Logger })
      annotateWebhook(result)
      return reply.code(200).send({ received: true, recorded: result.created.length, duplicates: result.duplicates })
    }),
  )
}

function tokenMatches(given: string, expected: string | undefined): boolean {
  if (!expected) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
