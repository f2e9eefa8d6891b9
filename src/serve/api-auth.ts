/**
 * `Authorization: Bearer <MEDIAGATE_API_KEY>` for /v1, compared in constant time. The key is
 * compared through its hash so the comparison does not leak the key's length either.
 *
 * Requests without an Authorization header may instead carry the dashboard's session cookie
 * (see ./session-token.ts). Cookies ride along on cross-site requests, so a
 * cookie-authenticated request that changes state must also carry `x-mediagate-csrf: 1`: a
 * custom header that another site cannot add without a CORS preflight we never grant.
 *
 * A cookie is checked against the catalog on every request (a logout in any process counts at
 * once), so the cookie path is asynchronous; the Bearer path stays synchronous and never reads
 * the catalog. The gateway hands the sessions to every route plugin with `provideSessions`, so
 * the route plugins keep calling `apiKeyHook(apiKey)`; without it, cookies are never accepted.
 */
import { hash, timingSafeEqual } from 'node:crypto'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { readCookie } from './cookies.js'
import { type DashboardSessions, SESSION_COOKIE } from './session-token.js'
import { MediagateError } from '../errors.js'

// The one-shot hash: no Hash object per request (this runs on every /v1 request).
const digest = (s: string) => hash('sha256', s, 'buffer')

/** The header (value `1`) a cookie-authenticated POST/PUT/PATCH/DELETE must carry. */
export const CSRF_HEADER = 'x-mediagate-csrf'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Instance decoration: inherited by every plugin registered after it, however encapsulated. */
const SESSIONS_DECORATION = 'mediagateDashboardSessions'

/** Makes the dashboard sessions known to every route registered on `app` after this call. */
export function provideSessions(app: FastifyInstance, sessions: DashboardSessions): void {
  app.decorate(SESSIONS_DECORATION, sessions)
}

function sessionsOf(request: FastifyRequest): DashboardSessions | undefined {
  return (request.server as unknown as Record<string, DashboardSessions | undefined>)[SESSIONS_DECORATION]
}

/** The session cookie, when its MAC verifies under this gateway's key (nothing read from the catalog yet). */
function authenticCookie(request: FastifyRequest): { token: string; sessions: DashboardSessions } | undefined {
  const token = readCookie(request.headers.cookie, SESSION_COOKIE)
  const sessions = token === undefined ? undefined : sessionsOf(request)
  return token !== undefined && sessions?.authentic(token) ? { token, sessions } : undefined
}

/**
 * The check: undefined when the request may pass at once (Bearer), a promise when a session
 * cookie is being looked up; throws (or rejects) when the request is refused.
 */
export function createApiKeyCheck(apiKey: string | undefined): (request: FastifyRequest) => void | Promise<void> {
  const expected = apiKey ? digest(apiKey) : undefined
  return (request) => {
    const header = request.headers.authorization
    const cookie = header === undefined ? authenticCookie(request) : undefined
    if (cookie) {
      // Before the lookup: a request that would be refused anyway costs no query.
      if (!SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== '1') {
        throw new MediagateError('forbidden', `a request signed in by the dashboard session must carry the header ${CSRF_HEADER}: 1`)
      }
      return cookie.sessions.active(cookie.token).then((active) => {
        if (!active) throw new MediagateError('unauthorized', 'the dashboard session has ended; sign in again')
      })
    }
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!expected || !match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new MediagateError('unauthorized', 'missing or wrong API key (Authorization: Bearer <MEDIAGATE_API_KEY>)')
    }
  }
}

/**
 * The check as an `onRequest` hook. Callback style, not async: it runs on every /v1 request, and
 * an async hook costs a promise and a trip through the microtask queue; only a session cookie,
 * which must be looked up, waits for anything.
 */
export function apiKeyHook(apiKey: string | undefined): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  const check = createApiKeyCheck(apiKey)
  return (request, _reply, done) => {
    let pending: void | Promise<void>
    try {
      pending = check(request)
    } catch (err) {
      done(err as FastifyError)
      return
    }
    if (pending === undefined) done()
    else pending.then(() => done(), (err: unknown) => done(err as FastifyError))
  }
}
