/**
 * `Authorization: Bearer <MEDIAGATE_API_KEY>` for /v1, compared in constant time. The key is
 * compared through its hash so the comparison does not leak the key's length either.
 *
 * Requests without an Authorization header may instead carry the dashboard's session cookie
 * (see src/dashboard/session-token.ts). Cookies ride along on cross-site requests, so a
 * cookie-authenticated request that changes state must also carry `x-mediagate-csrf: 1`: a
 * custom header that another site cannot add without a CORS preflight we never grant.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { readCookie } from './cookies.js'
import { SESSION_COOKIE, verifySessionToken } from './session-token.js'
import { MediagateError } from '../errors.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/** The header (value `1`) a cookie-authenticated POST/PUT/PATCH/DELETE must carry. */
export const CSRF_HEADER = 'x-mediagate-csrf'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** True when the request carries a valid, unexpired dashboard session cookie for this API key. */
export function hasValidSession(request: FastifyRequest, apiKey: string | undefined): boolean {
  const token = readCookie(request.headers.cookie, SESSION_COOKIE)
  return token !== undefined && verifySessionToken(token, apiKey)
}

export function createApiKeyCheck(apiKey: string | undefined): (request: FastifyRequest) => void {
  const expected = apiKey ? digest(apiKey) : undefined
  return (request) => {
    const header = request.headers.authorization
    if (header === undefined && hasValidSession(request, apiKey)) {
      if (!SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== '1') {
        throw new MediagateError('forbidden', `a request signed in by the dashboard session must carry the header ${CSRF_HEADER}: 1`)
      }
      return
    }
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!expected || !match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new MediagateError('unauthorized', 'missing or wrong API key (Authorization: Bearer <MEDIAGATE_API_KEY>)')
    }
  }
}

/**
 * The check as an `onRequest` hook. Callback style, not async: it runs on every /v1 request, and
 * an async hook costs a promise and a trip through the microtask queue (a throw still becomes the
 * error reply).
 */
export function apiKeyHook(apiKey: string | undefined): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  const check = createApiKeyCheck(apiKey)
  return (request, _reply, done) => {
    check(request)
    done()
  }
}
