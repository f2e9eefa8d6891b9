/**
 * The dashboard's server side over real HTTP: the page and its assets with a strict CSP, sign
 * in and out, and the session cookie standing in for the API key on /v1 (with CSRF protection).
 */
import { spawnSync } from 'node:child_process'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadDashboardAssets } from '../../src/dashboard/assets/web-assets.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { DASHBOARD_CSP, dashboardRoutes } from '../../src/dashboard/dashboard-routes.js'
import { createApiKeyCheck, provideSessions } from '../../src/serve/api-auth.js'
import { installErrorHandler } from '../../src/serve/error-handler.js'
import { DashboardSessions } from '../../src/serve/session-token.js'

const KEY = 'routes-test-key-abcdefghijklmnop'
// What `npm run build` put in dist/dashboard/web/ (pretest runs it), as the routes serve it.
const DASHBOARD_ASSETS = loadDashboardAssets().files
let app: FastifyInstance
let base: string
let catalog: SqliteCatalog
let sessions: DashboardSessions

async function protectedRoutes(instance: FastifyInstance): Promise<void> {
  const check = createApiKeyCheck(KEY)
  instance.addHook('onRequest', async (request) => check(request))
  instance.get('/v1/ping', async () => ({ ok: true }))
  instance.post('/v1/ping', async () => ({ changed: true }))
}

beforeAll(async () => {
  catalog = new SqliteCatalog({ path: ':memory:' })
  await catalog.migrate()
  sessions = new DashboardSessions({ apiKey: KEY, catalog })
  app = Fastify()
  installErrorHandler(app)
  provideSessions(app, sessions)
  await app.register(dashboardRoutes, { sessions })
  await app.register(protectedRoutes)
  base = await app.listen({ host: '127.0.0.1', port: 0 })
})
afterAll(async () => {
  await app?.close()
  await catalog?.close()
})

const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!

async function signIn(): Promise<string> {
  const res = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: KEY }) })
  expect(res.status).toBe(200)
  return cookieOf(res)
}

describe('the page and its assets', () => {
  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const res = await fetch(`${base}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
    expect(DASHBOARD_CSP).toContain("default-src 'self'; img-src 'self' blob: data:; media-src 'self'; object-src 'none'; frame-ancestors 'none'")
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    const html = await res.text()
    expect(html).toContain('<script type="module" src="/dashboard/assets/app.js"></script>')
    expect(html).not.toMatch(/<script>|<script type="module">|\son\w+=|style="/)
  })

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await fetch(`${base}/dashboard/assets/app.js`)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^".+"$/)
    const again = await fetch(`${base}/dashboard/assets/app.js`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
  })

  it.each(Object.keys(DASHBOARD_ASSETS))('serves %s, which parses', async (name) => {
    const res = await fetch(`${base}/dashboard/assets/${name}`)
    expect(res.status).toBe(200)
    const body = await res.text()
    expect(body).toBe(DASHBOARD_ASSETS[name]!.body)
    if (name.endsWith('.js')) {
      expect(res.headers.get('content-type')).toMatch(/^text\/javascript/)
      const check = spawnSync(process.execPath, ['--input-type=module', '--check'], { input: body, encoding: 'utf8' })
      expect(check.stderr).toBe('')
      expect(check.status).toBe(0)
      // Data must never be parsed as HTML.
      expect(body).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/)
    } else {
      expect(res.headers.get('content-type')).toMatch(/^text\/css/)
    }
  })
})

describe('sign in and out', () => {
  it('refuses a wrong key (JSON: 401; form: back to the page with a flag)', async () => {
    const json = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: 'nope' }) })
    expect(json.status).toBe(401)
    expect(json.headers.get('set-cookie')).toBeNull()
    const form = await fetch(`${base}/dashboard/session`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'api_key=nope' })
    expect(form.status).toBe(303)
    expect(form.headers.get('location')).toBe('/?signin=failed')
    expect(form.headers.get('set-cookie')).toBeNull()
  })

  it('sets an HttpOnly, SameSite=Strict session cookie that is not the key', async () => {
    const res = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: KEY }) })
    expect(res.status).toBe(200)
    const setCookie = res.headers.get('set-cookie')!
    expect(setCookie).toMatch(/^mediagate_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/)
    expect(setCookie).not.toContain(KEY)
    expect(setCookie).not.toContain(encodeURIComponent(KEY))
  })

  it('marks the cookie Secure when the browser came over https (through a proxy)', async () => {
    const res = await fetch(`${base}/dashboard/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ api_key: KEY }),
    })
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/)
  })

  it('signs in from the plain form too', async () => {
    const res = await fetch(`${base}/dashboard/session`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `api_key=${encodeURIComponent(KEY)}` })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/')
    const cookie = cookieOf(res)
    expect((await fetch(`${base}/v1/ping`, { headers: { cookie } })).status).toBe(200)
  })

  it('refuses cross-origin and cross-site sign-ins', async () => {
    const body = JSON.stringify({ api_key: KEY })
    const evil = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body })
    expect(evil.status).toBe(403)
    const site = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, body })
    expect(site.status).toBe(403)
    const same = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, 'sec-fetch-site': 'same-origin' }, body })
    expect(same.status).toBe(200)
  })

  it('reports the session state', async () => {
    expect(await (await fetch(`${base}/dashboard/session`)).json()).toEqual({ signed_in: false })
    const cookie = await signIn()
    expect(await (await fetch(`${base}/dashboard/session`, { headers: { cookie } })).json()).toMatchObject({ signed_in: true, features: { links: false, delete: false } })
  })

  it('logs out: the cookie is cleared and the old token no longer works', async () => {
    const cookie = await signIn()
    const res = await fetch(`${base}/dashboard/logout`, { method: 'POST', headers: { cookie } })
    expect(res.status).toBe(200)
    expect(res.headers.get('set-cookie')).toMatch(/^mediagate_session=; .*Max-Age=0/)
    expect((await fetch(`${base}/v1/ping`, { headers: { cookie } })).status).toBe(401)
  })
})

describe('the session cookie on the API', () => {
  it('authenticates reads', async () => {
    const cookie = await signIn()
    expect((await fetch(`${base}/v1/ping`, { headers: { cookie } })).status).toBe(200)
    expect((await fetch(`${base}/v1/ping`)).status).toBe(401)
    expect((await fetch(`${base}/v1/ping`, { headers: { cookie: 'mediagate_session=1.abcdefghijklmnopqrstuv.abc' } })).status).toBe(401)
  })

  it('requires the CSRF header on state changes', async () => {
    const cookie = await signIn()
    const bare = await fetch(`${base}/v1/ping`, { method: 'POST', headers: { cookie } })
    expect(bare.status).toBe(403)
    expect(await bare.json()).toMatchObject({ error: { code: 'forbidden' } })
    const withHeader = await fetch(`${base}/v1/ping`, { method: 'POST', headers: { cookie, 'x-mediagate-csrf': '1' } })
    expect(withHeader.status).toBe(200)
  })

  it('keeps the Bearer path as it was: a wrong key is refused even next to a valid cookie', async () => {
    const cookie = await signIn()
    expect((await fetch(`${base}/v1/ping`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200)
    expect((await fetch(`${base}/v1/ping`, { headers: { cookie, authorization: 'Bearer wrong' } })).status).toBe(401)
  })
})

describe('optional API features', () => {
  it('offers links and delete only when those routes exist, whatever their parameter is called', async () => {
    const other = Fastify()
    await other.register(dashboardRoutes, { sessions })
    other.post('/v1/media/:mediaId/links', async () => ({}))
    other.delete('/v1/media/:id', async () => ({}))
    const login = await other.inject({ method: 'POST', url: '/dashboard/session', payload: { api_key: KEY } })
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    const session = await other.inject({ method: 'GET', url: '/dashboard/session', headers: { cookie } })
    expect(session.json()).toMatchObject({ features: { links: true, delete: true } })
    await other.close()
  })
})
