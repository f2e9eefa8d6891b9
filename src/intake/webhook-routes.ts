/**
 * `GET /webhooks/meta`, Meta's subscription handshake, on fastify. The POST that carries the
 * webhooks is served ahead of fastify, on node:http directly (webhook-post.ts): the raw bytes
 * that the signature covers, capped at 4 MiB (Meta sends at most 3 MB).
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'

export const WEBHOOK_PATH = '/webhooks/meta'
export const WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024

export interface WebhookRoutesOptions {
  verifyToken: string | undefined
}

export async function webhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): Promise<void> {
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
}

function tokenMatches(given: string, expected: string | undefined): boolean {
  if (!expected) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
