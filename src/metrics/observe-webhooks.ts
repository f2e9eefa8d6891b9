/**
 * Counts webhook POSTs by result from their HTTP status, in an `onResponse` hook, so the intake
 * route stays unaware of metrics. Add it before the webhook routes are registered: fastify
 * copies hooks into a plugin's context when the plugin is registered.
 */
import type { FastifyInstance } from 'fastify'
import { WEBHOOK_PATH } from '../intake/webhook-routes.js'
import { type Metrics, webhookResultOf } from './metrics.js'

export function observeWebhooks(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    if (request.method === 'POST' && request.routeOptions.url === WEBHOOK_PATH) metrics.webhook(webhookResultOf(reply.statusCode))
    done()
  })
}
