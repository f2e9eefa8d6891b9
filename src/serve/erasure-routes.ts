/**
 * `DELETE /v1/media/{id}`: erases one record's bytes (and its blob, unless another record shares
 * it) and answers 200 with the tombstone (`status: deleted`), which stays for audit. Deleting a
 * tombstone again answers the same tombstone.
 *
 * `POST /v1/erasures` `{"sender": "<phone, BSUID, PSID or IGSID>", "platform"?: …}`: erases every
 * media of that person the same way and answers `200 {"erased": <count>}` (a data-subject
 * erasure request; run again, it erases nothing more and answers 0).
 */
import type { FastifyInstance } from 'fastify'
import type { MediaQueries } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import { PLATFORMS, type Platform } from '../media/record.js'
import { eraseSender, type SenderErasure } from '../retention/erase-sender.js'
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

  app.post('/v1/erasures', async (request) => {
    const erased = await eraseSender(parseErasure(request.body), { catalog: options.catalog, eraser: options.eraser })
    return { erased }
  })
}

function parseErasure(body: unknown): SenderErasure {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object {"sender": "…", "platform"?: "…"}')
  const o = body as Record<string, unknown>
  for (const key of Object.keys(o)) if (key !== 'sender' && key !== 'platform') throw bad(`unknown field "${key}"; known: sender, platform`)
  const { sender, platform } = o
  if (typeof sender !== 'string' || sender.trim() === '' || sender.length > 512) throw bad('sender must be a non-empty string: a phone number, BSUID, PSID or IGSID')
  if (platform !== undefined && !(PLATFORMS as readonly unknown[]).includes(platform)) throw bad(`platform must be one of ${PLATFORMS.join(', ')}`)
  return { sender: sender.trim(), ...(platform !== undefined ? { platform: platform as Platform } : {}) }
}

const bad = (message: string) => new MediagateError('bad_request', message)
