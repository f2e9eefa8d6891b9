/**
 * `/healthz`: the process answers. `/readyz`: it can do its job, i.e. the catalog and the blob
 * store answer; load balancers send traffic only when this is 200.
 */
import type { FastifyInstance } from 'fastify'
import type { BlobStore } from '../blobs/blob-store.js'
import type { CatalogLifecycle } from '../catalog/catalog.js'

export interface HealthRoutesOptions {
  catalog: CatalogLifecycle
  blobs: BlobStore
}

export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (request, reply) => {
    const checks = await Promise.allSettled([options.catalog.ping(), options.blobs.stat('readyz-probe')])
    const [catalog, blobs] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'unavailable'))
    const ready = catalog === 'ok' && blobs === 'ok'
    if (!ready) request.log.warn({ catalog, blobs }, 'not ready')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', catalog, blobs })
  })
}
