/**
 * `Authorization: Bearer <MEDIAGATE_API_KEY>` for /v1, compared in constant time. The key is
 * compared through its hash so the comparison does not leak the key's length either.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { MediagateError } from '../errors.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

export function createApiKeyCheck(apiKey: string | undefined): (request: FastifyRequest) => void {
  const expected = apiKey ? digest(apiKey) : undefined
  return (request) => {
    const header = request.headers.authorization
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!expected || !match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new MediagateError('unauthorized', 'missing or wrong API key (Authorization: Bearer <MEDIAGATE_API_KEY>)')
    }
  }
}
