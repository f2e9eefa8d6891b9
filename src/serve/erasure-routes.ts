/**
 * `DELETE /v1/media/{id}`: erases one record's bytes (and its blob, unless another record shares
 * it) and answers 200 with the tombstone (`status: deleted`), which stays for audit. Deleting a
 * tombstone again answers the same tombstone.
 */
import type { FastifyInstance } from 'fastify'
import type { MediaQueries } from '../catalog/catalog.js'
import type { Eraser } from '../retention/eraser.js'
import { apiKeyHook } from './api-auth.js'
import { loadMedia } from './content-route.js'
import { presentMedia } from './present-media.js'

export interface ErasureRoutesOptions {
  catalog: MediaQueries
  eraser: Eraser
  apiKey: string | undefined
}

export async function erasureRoutes(app: FastifyInstance, options: ErasureRoutesOptions): Promise<void> {
  app.addHook('onRequest', apiKeyHook(options.apiKey))
  app.delete<{ Params: { id: string } }>('/v1/media/:id', async (request) => {
    const media = await loadMedia(options.catalog, request.params.id)
    const [tombstone] = await options.eraser.erase([media.id])
    return presentMedia(tombstone ?? (await loadMedia(options.catalog, media.id)))
  })
}
