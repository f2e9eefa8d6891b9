/**
 * `GET /metrics` in the Prometheus text format. It needs the API key (Bearer, or the dashboard
 * session) unless MEDIAGATE_METRICS_PUBLIC=1: queue sizes and error rates are not public facts.
 */
import type { FastifyInstance } from 'fastify'
import { apiKeyHook } from '../serve/api-auth.js'
import type { Metrics } from './metrics.js'

export interface MetricsRoutesOptions {
  metrics: Metrics
  apiKey: string | undefined
  /** Serve without the API key. */
  public: boolean
}

export async function metricsRoutes(app: FastifyInstance, options: MetricsRoutesOptions): Promise<void> {
  if (!options.public) app.addHook('onRequest', apiKeyHook(options.apiKey))
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await options.metrics.render()
    return reply.header('cache-control', 'no-store').type(contentType).send(body)
  })
}
