/**
 * `/healthz`: the process answers. `/readyz`: it can do its job, i.e. the catalog and the blob
 * store answer; load balancers send traffic only when this is 200. The malware scanner is
 * reported (`ok`, `unavailable`, or `off`) but does not make the gateway unready: webhooks are
 * still recorded durably, and their media wait `pending` until clamd is back (fail closed).
 */
import type { FastifyInstance } from 'fastify'
import type { BlobStore } from '../blobs/blob-store.js'
import type { CatalogLifecycle } from '../catalog/catalog.js'
import type { Scanner } from '../scanning/scanner.js'

export interface HealthRoutesOptions {
  catalog: CatalogLifecycle
  blobs: BlobStore
  scanner?: Pick<Scanner, 'ping'>
}

export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (request, reply) => {
    const checks = await Promise.allSettled([options.catalog.ping(), options.blobs.stat('readyz-probe'), options.scanner ? options.scanner.ping() : Promise.resolve()])
    const [catalog, blobs, scanned] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'unavailable'))
    const scanner = options.scanner ? scanned : 'off'
    const ready = catalog === 'ok' && blobs === 'ok'
    if (!ready) request.log.warn({ catalog, blobs, scanner }, 'not ready')
    else if (scanner === 'unavailable') request.log.warn('the malware scanner does not answer; media wait pending until it does')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', catalog, blobs, scanner })
  })
}
