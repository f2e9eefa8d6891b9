/**
 * `POST /v1/media/batch`: retry or delete many media in one call (batch-actions.ts). Answers 200
 * `{"action", "matched", "done", "skipped": [{"id", "reason"}], "capped"}`; with a filter whose
 * match count is not the confirmed `expected`, 409 `count_changed` with the new `count`.
 */
import type { FastifyInstance } from 'fastify'
import type { MediaQueries } from '../catalog/catalog.js'
import type { Eraser } from '../retention/eraser.js'
import { apiKeyHook } from './api-auth.js'
import { CountChangedError, runBatch } from './batch-actions.js'
import { parseBatchRequest } from './batch-request.js'

export interface BatchRoutesOptions {
  catalog: MediaQueries
  eraser: Pick<Eraser, 'erase'>
  apiKey: string | undefined
}

export async function batchRoutes(app: FastifyInstance, options: BatchRoutesOptions): Promise<void> {
  app.addHook('onRequest', apiKeyHook(options.apiKey))
  app.post('/v1/media/batch', async (request, reply) => {
    const batch = parseBatchRequest(request.body)
    try {
      return await runBatch(batch, { catalog: options.catalog, eraser: options.eraser })
    } catch (err) {
      if (!(err instanceof CountChangedError)) throw err
      // The shared error shape, plus the count the caller confirms next.
      return reply.code(err.status).send({ error: { code: err.code, message: err.message, count: err.count, capped: err.capped } })
    }
  })
}
