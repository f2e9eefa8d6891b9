/**
 * The operators' dashboard: one static page at `/`, its stylesheet and ES modules under
 * `/dashboard/assets/`, and the session endpoints. The page itself reads everything through
 * the /v1 API, signed in by an HttpOnly session cookie instead of the API key.
 *
 * The page and assets are the build output of src/dashboard/web/ (see ./assets/web-assets.ts),
 * read once when the routes are registered: without `npm run build` registration fails.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MediagateError } from '../errors.js'
import { hasValidSession } from '../serve/api-auth.js'
import { loadDashboardAssets } from './assets/web-assets.js'
import { readCookie, sessionCookie } from '../serve/cookies.js'
import { issueSessionToken, revokeSessionToken, SESSION_COOKIE } from '../serve/session-token.js'

export interface DashboardRoutesOptions {
  apiKey: string | undefined
}

/** Sent with every dashboard response; the page needs nothing from anywhere else. */
export const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' blob: data:; media-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const SESSION_BODY_LIMIT = 4096

export async function dashboardRoutes(app: FastifyInstance, options: DashboardRoutesOptions): Promise<void> {
  const { apiKey } = options
  const expectedKey = apiKey ? digest(apiKey) : undefined
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
    if (!hasValidSession(request, apiKey)) return { signed_in: false }
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
    checkSameOrigin(request)
    const form = isForm(request)
    const given = (request.body as Record<string, unknown> | null | undefined)?.api_key
    if (!apiKey || !expectedKey || typeof given !== 'string' || !timingSafeEqual(digest(given), expectedKey)) {
      request.log.info('dashboard sign-in refused')
      if (form) return reply.code(303).header('location', '/?signin=failed').send()
      throw new MediagateError('unauthorized', expectedKey ? 'wrong API key' : 'MEDIAGATE_API_KEY is not set; the dashboard is disabled')
    }
    const { token, expiresAt } = issueSessionToken(apiKey)
    void reply.header('set-cookie', sessionCookie(SESSION_COOKIE, token, { maxAgeSeconds: (expiresAt.getTime() - Date.now()) / 1000, secure: isHttps(request) }))
    void reply.header('cache-control', 'no-store')
    if (form) return reply.code(303).header('location', '/').send()
    return { signed_in: true, expires_at: expiresAt.toISOString() }
  })

  app.post('/dashboard/logout', { bodyLimit: SESSION_BODY_LIMIT }, async (request, reply) => {
    checkSameOrigin(request)
    const token = readCookie(request.headers.cookie, SESSION_COOKIE)
    if (token) revokeSessionToken(token)
    void reply.header('set-cookie', sessionCookie(SESSION_COOKIE, '', { maxAgeSeconds: 0, secure: isHttps(request) }))
    void reply.header('cache-control', 'no-store')
    if (isForm(request)) return reply.code(303).header('location', '/').send()
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
 */
function checkSameOrigin(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site']
  if (site === 'cross-site' || site === 'same-site') throw new MediagateError('forbidden', 'cross-site requests to the dashboard are refused')
  const origin = request.headers.origin
  if (origin === undefined) return
  let host: string | undefined
  try {
    host = new URL(origin).host
  } catch {
    host = undefined
  }
  if (!host || host !== request.headers.host) throw new MediagateError('forbidden', 'cross-origin requests to the dashboard are refused')
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

const digest = (s: string) => createHash('sha256').update(s).digest()
const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
