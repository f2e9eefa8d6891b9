/**
 * Reference for intake, "framework alone": fastify set up as the gateway sets it up (its logger
 * at info, request ids, the x-request-id hook, an onResponse hook, the raw-buffer body parser
 * with the 4 MiB cap) answering the webhook route with the gateway's JSON, and nothing else: no
 * signature, no parsing, no catalog. Its distance to bare node:http is what the framework costs.
 */
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify'
import { WEBHOOK_BODY_LIMIT, WEBHOOK_PATH } from '../../src/intake/webhook-routes.js'
import { createLogger } from '../../src/logging/logger.js'
import { serveParent } from '../lib/child-runtime.js'

const app = Fastify({
  loggerInstance: createLogger('info') as FastifyBaseLogger,
  logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
  return503OnClosing: true,
  forceCloseConnections: true,
  requestIdHeader: 'x-request-id',
})
app.addHook('onRequest', (request, reply, done) => {
  void reply.header('x-request-id', request.id)
  done()
})
app.addHook('onResponse', (_request, _reply, done) => done())
void app.register(async (scope) => {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body))
  scope.post(WEBHOOK_PATH, { bodyLimit: WEBHOOK_BODY_LIMIT }, async (_request, reply) => reply.code(200).send({ received: true, recorded: 1, duplicates: 0 }))
})

serveParent<{ url: string }>({
  start: async () => ({ url: await app.listen({ host: '127.0.0.1', port: 0 }) }),
  stop: () => app.close(),
})
