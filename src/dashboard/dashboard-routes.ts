/**
 * The operators' dashboard: one static page at `/`, its stylesheet and ES modules under
 * `/dashboard/assets/`, and the session endpoints. The page itself reads everything through
 * the /v1 API, signed in by an HttpOnly session cookie instead of the API key.
 *
 * The page and assets are the build output of src/dashboard/web/ (see ./assets/web-assets.ts),
 * read once when the routes are registered: without `npm run build` registration fails.
 *
 * Sessions live in the catalog (../serve/session-token.ts): a logout here ends the session in
 * every process. Failed sign-ins are limited per client address (./sign-in-limiter.ts).
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MediagateError } from '../errors.js'
import { loadDashboardAssets } from './assets/web-assets.js'
import { readCookie, sessionCookie } from '../serve/cookies.js'
import { type DashboardSessions, SESSION_COOKIE } from '../serve/session-token.js'
import { type SignInLimits, SignInLimiter } from './sign-in-limiter.js'

export interface DashboardRoutesOptions {
  /** The same sessions the API's cookie check uses (`provideSessions`). */
  sessions: DashboardSessions
  /**
   * MEDIAGATE_PUBLIC_URL: where browsers reach us. A reverse proxy usually rewrites `Host` to
   * the upstream's address, so a sign-in's `Origin` is compared with this as well.
   */
  publicUrl?: string | undefined
  /** Failed sign-ins per client address; default 10 a minute. */
  signInLimits?: Partial<SignInLimits>
}

/** Sent with every dashboard response; the page needs nothing from anywhere else. */
export const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' blob: data:; media-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const SESSION_BODY_LIMIT = 4096

export async function dashboardRoutes(app: FastifyInstance, options: DashboardRoutesOptions): Promise<void> {
  const { sessions } = options
  const publicOrigin = options.publicUrl ? new URL(options.publicUrl).origin : undefined
  const limiter = new SignInLimiter(options.signInLimits)
  const { indexHtml, files } = loadDashboardAssets()
  const indexEtag = etagOf(indexHtml)

  // Encapsulated in this plugin: the sign-in form posts urlencoded, nothing else here does.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: SESSION_BODY_LIMIT }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  )
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('content-security-policy', DASHBOARD_CSP)
    void reply.header('x-content-type-options', 'nosniff')
    void reply.header('x-frame-options', 'DENY')
    void reply.header('referrer-policy', 'no-referrer')
  })

  app.get('/', async (request, reply) => sendStatic(request, reply, indexHtml, 'text/html; charset=utf-8', indexEtag))

  for (const [name, asset] of Object.entries(files)) {
    const etag = etagOf(asset.body)
    app.get(`/dashboard/assets/${name}`, async (request, reply) => sendStatic(request, reply, asset.body, asset.type, etag))
  }

  app.get('/dashboard/session', async (request, reply) => {
    void reply.header('cache-control', 'no-store')
    const token = readCookie(request.headers.cookie, SESSION_COOKIE)
    if (token === undefined || !(await sessions.active(token))) return { signed_in: false }
    return {
      signed_in: true,
      // Buttons for API routes that may not exist in this version are shown only when they do.
      features: {
        links: app.hasRoute({ method: 'POST', url: '/v1/media/:id/links' }),
        delete: app.hasRoute({ method: 'DELETE', url: '/v1/media/:id' }),
      },
    }
  })

  app.post('/dashboard/session', { bodyLimit: SESSION_BODY_LIMIT }, async (request, reply) => {
    checkSameOrigin(request, publicOrigin)
    const form = isForm(request)
    if (!sessions.enabled) {
      request.log.info('dashboard sign-in refused: no API key')
      if (form) return reply.code(303).header('location', '/?signin=failed').send()
      throw new MediagateError('unauthorized', 'MEDIAGATE_API_KEY is not set; the dashboard is disabled')
    }
    // The client's address: the connection's, or what a proxy listed in MEDIAGATE_TRUST_PROXY says in X-Forwarded-For.
    const address = request.ip
    const waitMs = limiter.waitFor(address)
    if (waitMs > 0) {
      request.log.info('dashboard sign-in refused: too many failed sign-ins from this address')
      const seconds = Math.ceil(waitMs / 1000)
      void reply.header('retry-after', seconds)
      if (form) return reply.code(303).header('location', '/?signin=throttled').send()
      throw new MediagateError('too_many_requests', `too many failed sign-ins from this address; try again in ${seconds} s`, { retryAfterMs: waitMs })
    }
    if (!sessions.keyMatches((request.body as Record<string, unknown> | null | undefined)?.api_key)) {
      limiter.failed(address)
      request.log.info('dashboard sign-in refused')
      if (form) return reply.code(303).header('location', '/?signin=failed').send()
      throw new MediagateError('unauthorized', 'wrong API key')
    }
    limiter.succeeded(address)
    const { token, expiresAt } = await sessions.start()
    void reply.header('set-cookie', sessionCookie(SESSION_COOKIE, token, { maxAgeSeconds: (expiresAt.getTime() - Date.now()) / 1000, secure: isHttps(request) }))
    void reply.header('cache-control', 'no-store')
    if (form) return reply.code(303).header('location', '/').send()
    return { signed_in: true, expires_at: expiresAt.toISOString() }
  })

  app.post('/dashboard/logout', { bodyLimit: SESSION_BODY_LIMIT }, async (request, reply) => {
    checkSameOrigin(request, publicOrigin)
    const token = readCookie(request.headers.cookie, SESSION_COOKIE)
    const outcome = token === undefined ? 'ended' : await sessions.end(token)
    // Cleared either way: a cookie this server cannot verify is of no use to the browser.
    void reply.header('set-cookie', sessionCookie(SESSION_COOKIE, '', { maxAgeSeconds: 0, secure: isHttps(request) }))
    void reply.header('cache-control', 'no-store')
    if (outcome === 'forged') request.log.info('dashboard logout with a cookie that does not verify: nothing ended')
    if (isForm(request)) return reply.code(303).header('location', '/').send()
    if (outcome === 'forged') throw new MediagateError('unauthorized', 'the session cookie does not verify; no session was ended')
    return { signed_in: false }
  })
}

function sendStatic(request: FastifyRequest, reply: FastifyReply, body: string, type: string, etag: string) {
  void reply.header('etag', etag).header('cache-control', 'no-cache')
  if (request.headers['if-none-match'] === etag) return reply.code(304).send()
  return reply.type(type).send(body)
}

/**
 * Another site may not sign a browser in or out (login CSRF). Browsers send Origin on POSTs and
 * Sec-Fetch-Site on everything; tools such as curl send neither and are let through.
 *
 * Sec-Fetch-Site is set by the browser itself, out of any page's reach, so `same-origin` settles
 * it. Otherwise Origin must be the public URL's origin (MEDIAGATE_PUBLIC_URL) or name the host
 * the request reached: behind a reverse proxy `Host` is often the upstream's (nginx's default
 * `proxy_set_header Host $proxy_host`), which no browser's Origin matches.
 */
function checkSameOrigin(request: FastifyRequest, publicOrigin: string | undefined): void {
  const site = request.headers['sec-fetch-site']
  if (site === 'same-origin') return
  if (site === 'cross-site' || site === 'same-site') throw new MediagateError('forbidden', 'cross-site requests to the dashboard are refused')
  const origin = request.headers.origin
  if (origin === undefined) return
  let parsed: URL | undefined
  try {
    parsed = new URL(origin)
  } catch {
    parsed = undefined
  }
  const host = request.headers.host?.toLowerCase()
  if (parsed && (parsed.origin === publicOrigin || (host !== undefined && parsed.host === host))) return
  throw new MediagateError('forbidden', 'cross-origin requests to the dashboard are refused')
}

function isForm(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
}

/** Secure cookies when the browser talks https to us or to the TLS proxy in front of us. */
function isHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto']
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
  return request.protocol === 'https' || first === 'https'
}

const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
