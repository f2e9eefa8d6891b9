/**
 * The forwarding outbox over the API (key required): `GET /v1/forwards?status&limit&cursor`
 * lists forwards newest first, `POST /v1/forwards/{id}/retry` puts a failed one back in line.
 */
import type { FastifyInstance } from 'fastify'
import type { ForwardRecord, ForwardStatus, Outbox } from '../catalog/catalog.js'
import { isForwardId } from '../catalog/forward-plans.js'
import { MediagateError } from '../errors.js'
import { apiKeyHook } from './api-auth.js'

export interface ForwardsRoutesOptions {
  catalog: Outbox
  apiKey: string | undefined
}

/** A forward as the API shows it (snake_case, ISO times). */
export interface ForwardJson {
  id: string
  webhook_id: string
  conversation_key: string
  status: ForwardStatus
  wait_for_media: boolean
  attempts: number
  next_attempt_at: string | null
  last_error: string | null
  created_at: string
  sent_at: string | null
}

export function presentForward(f: ForwardRecord): ForwardJson {
  return {
    id: f.id,
    webhook_id: f.webhookId,
    conversation_key: f.conversationKey,
    status: f.status,
    wait_for_media: f.waitForMedia,
    attempts: f.attempts,
    next_attempt_at: f.nextAttemptAt?.toISOString() ?? null,
    last_error: f.lastError,
    created_at: f.createdAt.toISOString(),
    sent_at: f.sentAt?.toISOString() ?? null,
  }
}

const STATUSES: readonly ForwardStatus[] = ['pending', 'sent', 'failed']

export async function forwardsRoutes(app: FastifyInstance, options: ForwardsRoutesOptions): Promise<void> {
  const { catalog } = options
  app.addHook('onRequest', apiKeyHook(options.apiKey))

  app.get<{ Querystring: Record<string, unknown> }>('/v1/forwards', async (request) => {
    const { status, limit, cursor } = request.query
    if (status !== undefined && !STATUSES.includes(status as ForwardStatus)) throw new MediagateError('bad_request', `status must be one of ${STATUSES.join(', ')}`)
    const n = limit === undefined ? 100 : Number(limit)
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new MediagateError('bad_request', 'limit must be a whole number from 1 to 1000')
    if (cursor !== undefined && typeof cursor !== 'string') throw new MediagateError('bad_request', 'cursor must be a string')
    const page = await catalog.listForwards(status === undefined ? {} : { status: status as ForwardStatus }, { limit: n, ...(cursor ? { cursor } : {}) })
    return { data: page.data.map(presentForward), next_cursor: page.nextCursor }
  })

  app.post<{ Params: { id: string } }>('/v1/forwards/:id/retry', async (request, reply) => {
    const { id } = request.params
    const forward = isForwardId(id) ? await catalog.getForward(id) : undefined
    if (!forward) throw new MediagateError('not_found', `no forward ${id}`)
    if (forward.status !== 'failed') throw new MediagateError('conflict', `forward ${id} is ${forward.status}; only failed forwards can be retried`)
    const [retried] = await catalog.retryForwards([id])
    return reply.code(202).send(presentForward(retried ?? forward))
  })
}
