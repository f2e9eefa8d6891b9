/**
 * Dashboard sessions against real gateways over loopback (issue 12, defects 6 and 8): a logout
 * lives in the catalog, so no flood of forged logouts brings a session back and another gateway
 * on the same catalog honours it at once; sign-ins are limited per client address; and a
 * sign-in through a reverse proxy that rewrote `Host` is accepted by its Origin or its
 * Sec-Fetch-Site, while cross-site sign-ins stay refused.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import { issueSessionToken } from '../../src/serve/session-token.js'
import { startChildGateway } from '../helpers/child-gateway.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { postgresAvailable } from '../helpers/services.js'

const KEY = 'sessions-test-key-0123456789abcdef'
const PUBLIC_URL = 'https://media.example.com'
const pgAvailable = await postgresAvailable()

interface Started {
  gateway: Gateway
  base: string
}

const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-sessions-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const GATEWAY_ENV = {
  MEDIAGATE_PORT: '0',
  MEDIAGATE_HOST: '127.0.0.1',
  MEDIAGATE_ROLE: 'api',
  META_APP_SECRET: 'sessions-test-app-secret',
  META_VERIFY_TOKEN: 'verify',
  MEDIAGATE_API_KEY: KEY,
}

/** An api-role gateway (no background jobs) in this process, on the given data directory or database. */
async function startGateway(env: Record<string, string>): Promise<Started> {
  const config = loadConfig({ env: { ...GATEWAY_ENV, MEDIAGATE_LOG_LEVEL: 'silent', ...env } })
  const gateway = await createGateway(config)
  await gateway.start()
  cleanups.push(() => gateway.close())
  return { gateway, base: gateway.url! }
}

const json = { 'content-type': 'application/json' }
const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!

async function signIn(base: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ api_key: KEY }) })
  expect(res.status).toBe(200)
  const cookie = cookieOf(res)
  expect(cookie).toMatch(/^mediagate_session=\d+\./)
  return cookie
}

/** The status of a /v1 read made with the cookie alone. */
const readWith = async (base: string, cookie: string) => (await fetch(`${base}/v1/media?limit=1`, { headers: { cookie } })).status
const logout = (base: string, cookie: string) => fetch(`${base}/dashboard/logout`, { method: 'POST', headers: { cookie } })

/** A cookie in the issued format whose MAC is random: what anyone can make. */
const forgedCookie = () => `mediagate_session=${Math.floor(Date.now() / 1000) + 3600}.${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`

/** A POST with a chosen local address (127.0.0.0/8 is all loopback), to be another client. */
function postFrom(localAddress: string, url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', localAddress, headers: { ...json, ...headers, 'content-length': Buffer.byteLength(body) }, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('logout (defect 6)', () => {
  let a: Started

  beforeAll(async () => {
    a = await startGateway({ MEDIAGATE_DATA_DIR: await tempDir() })
  })

  // Bounded by its request count, not by time; the timeout only leaves room for a slow machine.
  it('a revoked cookie stays revoked after 10,001 forged logouts', { timeout: 180_000 }, async () => {
    const revoked = await signIn(a.base)
    const bystander = await signIn(a.base)
    expect(await readWith(a.base, revoked)).toBe(200)
    expect((await logout(a.base, revoked)).status).toBe(200)
    expect(await readWith(a.base, revoked)).toBe(401)

    const FORGED = 10_001
    const CONCURRENCY = 25
    const statuses = new Map<number, number>()
    for (let sent = 0; sent < FORGED; sent += CONCURRENCY) {
      const batch = Array.from({ length: Math.min(CONCURRENCY, FORGED - sent) }, async () => (await logout(a.base, forgedCookie())).status)
      for (const status of await Promise.all(batch)) statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
    expect(await readWith(a.base, revoked)).toBe(401)
    // Every one of them refused: a cookie that does not verify touches nothing.
    expect(Object.fromEntries(statuses)).toEqual({ 401: FORGED })
    expect((await (await fetch(`${a.base}/dashboard/session`, { headers: { cookie: revoked } })).json()) as unknown).toEqual({ signed_in: false })
    // And they ended nobody else's session either.
    expect(await readWith(a.base, bystander)).toBe(200)
  })

  it('refuses forged and garbled logout cookies without ending the session they imitate', async () => {
    const cookie = await signIn(a.base)
    const token = cookie.slice('mediagate_session='.length)
    const [expires, id, mac] = token.split('.') as [string, string, string]
    const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`
    const otherKey = issueSessionToken(`${KEY}-another-key`).token
    const garbled = [
      `${expires}.${id}.${flipped}`,
      `${Number(expires) + 1}.${id}.${mac}`,
      `${expires}.${id}x.${mac}`,
      `${expires}.${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}.${mac}`,
      otherKey,
      `${token}.extra`,
      `${expires}.${id}`,
      'x',
      '',
    ]
    for (const value of garbled) {
      const res = await logout(a.base, `mediagate_session=${value}`)
      // Nothing could be ended; the browser's unusable cookie is cleared all the same.
      expect(res.status === 401 || (value === '' && res.status === 200), value).toBe(true)
      expect(res.headers.get('set-cookie'), value).toMatch(/^mediagate_session=; .*Max-Age=0/)
      if (res.status === 401) expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } })
    }
    expect(await readWith(a.base, cookie)).toBe(200)
    // The form's logout goes back to the page either way, and still ends nothing.
    const form = await fetch(`${a.base}/dashboard/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `mediagate_session=${expires}.${id}.${flipped}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    })
    expect(form.status).toBe(303)
    expect(await readWith(a.base, cookie)).toBe(200)
  })

  for (const engine of ['sqlite', 'postgres'] as const) {
    it.skipIf(engine === 'postgres' && !pgAvailable)(`a logout in gateway A is honoured at once by gateway B, another process on the same catalog (${engine})`, async () => {
      let env: Record<string, string>
      if (engine === 'sqlite') env = { MEDIAGATE_DATA_DIR: await tempDir() }
      else {
        const schema: TestSchema = await createTestSchema('mg_sessions')
        cleanups.push(() => schema.drop())
        env = { MEDIAGATE_DATA_DIR: await tempDir(), MEDIAGATE_DATABASE_URL: schema.url }
      }
      const first = await startGateway(env)
      // The real binary: two api processes behind one load balancer share nothing but the catalog.
      const child = await startChildGateway({ ...GATEWAY_ENV, ...env })
      cleanups.push(() => child.kill('SIGTERM'))
      const second = { base: child.url }
      const cookie = await signIn(first.base)
      const other = await signIn(second.base)
      for (const g of [first, second]) {
        expect(await readWith(g.base, cookie)).toBe(200)
        expect(await readWith(g.base, other)).toBe(200)
      }
      expect((await logout(first.base, cookie)).status).toBe(200)
      // No waiting: the next request to either gateway reads the catalog.
      expect(await readWith(second.base, cookie)).toBe(401)
      expect(await readWith(first.base, cookie)).toBe(401)
      expect((await (await fetch(`${second.base}/dashboard/session`, { headers: { cookie } })).json()) as unknown).toEqual({ signed_in: false })
      expect((await logout(second.base, other)).status).toBe(200)
      expect(await readWith(first.base, other)).toBe(401)
    })
  }

  it('rotating the API key ends every session, on every gateway of the catalog', async () => {
    const dir = await tempDir()
    const before = await startGateway({ MEDIAGATE_DATA_DIR: dir })
    const cookie = await signIn(before.base)
    const rotated = await startGateway({ MEDIAGATE_DATA_DIR: dir, MEDIAGATE_API_KEY: `${KEY}-rotated` })
    expect(await readWith(before.base, cookie)).toBe(200)
    expect(await readWith(rotated.base, cookie)).toBe(401)
  })
})

describe('sign-in rate limit (defect 6)', () => {
  it('the 11th failed sign-in in a minute answers 429 with Retry-After; a correct key from another address still signs in', async () => {
    const g = await startGateway({ MEDIAGATE_DATA_DIR: await tempDir() })
    const url = `${g.base}/dashboard/session`
    const wrong = JSON.stringify({ api_key: 'not-the-key' })
    const right = JSON.stringify({ api_key: KEY })
    for (let i = 1; i <= 10; i++) expect((await postFrom('127.0.0.1', url, wrong)).status, `attempt ${i}`).toBe(401)
    const eleventh = await postFrom('127.0.0.1', url, wrong)
    expect(eleventh.status).toBe(429)
    const retryAfter = Number(eleventh.headers['retry-after'])
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // While blocked even the right key is refused there, or the limit would only hide which guess was right.
    const rightButBlocked = await postFrom('127.0.0.1', url, right)
    expect(rightButBlocked.status).toBe(429)
    expect(rightButBlocked.headers['set-cookie']).toBeUndefined()
    const elsewhere = await postFrom('127.0.0.2', url, right)
    expect(elsewhere.status).toBe(200)
    const cookie = String(elsewhere.headers['set-cookie']).split(';')[0]!
    expect(await readWith(g.base, cookie)).toBe(200)
    // The form shows the page again, saying why.
    const form = await fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'api_key=nope' })
    expect(form.status).toBe(303)
    expect(form.headers.get('location')).toBe('/?signin=throttled')
  })

  it('an X-Forwarded-For header does not buy a fresh budget (no trust-proxy setting: the socket address counts)', async () => {
    const g = await startGateway({ MEDIAGATE_DATA_DIR: await tempDir() })
    const url = `${g.base}/dashboard/session`
    for (let i = 0; i < 10; i++) {
      const res = await fetch(url, { method: 'POST', headers: { ...json, 'x-forwarded-for': `203.0.113.${i}` }, body: JSON.stringify({ api_key: 'nope' }) })
      expect(res.status).toBe(401)
    }
    const res = await fetch(url, { method: 'POST', headers: { ...json, 'x-forwarded-for': '198.51.100.7' }, body: JSON.stringify({ api_key: KEY }) })
    expect(res.status).toBe(429)
  })
})

describe('sign-in rate limit behind a trusted reverse proxy (MEDIAGATE_TRUST_PROXY)', () => {
  it('counts the address the listed proxy forwards, not the proxy\'s; other connections\' X-Forwarded-For is not believed', async () => {
    const g = await startGateway({ MEDIAGATE_DATA_DIR: await tempDir(), MEDIAGATE_TRUST_PROXY: '127.0.0.1' })
    const url = `${g.base}/dashboard/session`
    const wrong = JSON.stringify({ api_key: 'not-the-key' })
    const right = JSON.stringify({ api_key: KEY })
    const via = (client: string) => ({ 'x-forwarded-for': client })
    for (let i = 1; i <= 10; i++) expect((await postFrom('127.0.0.1', url, wrong, via('203.0.113.5'))).status, `attempt ${i}`).toBe(401)
    expect((await postFrom('127.0.0.1', url, wrong, via('203.0.113.5'))).status).toBe(429)
    // Another client behind the same proxy keeps its own budget.
    const other = await postFrom('127.0.0.1', url, right, via('198.51.100.7'))
    expect(other.status).toBe(200)
    expect(await readWith(g.base, String(other.headers['set-cookie']).split(';')[0]!)).toBe(200)
    // 127.0.0.2 is not a listed proxy: its own address counts, whatever it forwards.
    for (let i = 0; i < 10; i++) expect((await postFrom('127.0.0.2', url, wrong, via(`192.0.2.${i}`))).status).toBe(401)
    expect((await postFrom('127.0.0.2', url, right, via('192.0.2.200'))).status).toBe(429)
  })
})

describe('sign-in behind a reverse proxy (defect 8)', () => {
  let proxied: Started
  let plain: Started
  beforeAll(async () => {
    const dir = await tempDir()
    proxied = await startGateway({ MEDIAGATE_DATA_DIR: dir, MEDIAGATE_PUBLIC_URL: PUBLIC_URL })
    plain = await startGateway({ MEDIAGATE_DATA_DIR: dir })
  })

  it('accepts a sign-in whose Host is the upstream and whose Origin is MEDIAGATE_PUBLIC_URL', async () => {
    // fetch sends Host: 127.0.0.1:<port>, the upstream address nginx's `proxy_set_header Host $proxy_host` gives.
    expect(new URL(proxied.base).hostname).toBe('127.0.0.1')
    const cookie = await signIn(proxied.base, { origin: PUBLIC_URL })
    expect(await readWith(proxied.base, cookie)).toBe(200)
    expect((await fetch(`${proxied.base}/dashboard/logout`, { method: 'POST', headers: { cookie, origin: PUBLIC_URL } })).status).toBe(200)
    expect(await readWith(proxied.base, cookie)).toBe(401)
    // The same Origin means nothing to a gateway that was not told its public URL.
    const refused = await fetch(`${plain.base}/dashboard/session`, { method: 'POST', headers: { ...json, origin: PUBLIC_URL }, body: JSON.stringify({ api_key: KEY }) })
    expect(refused.status).toBe(403)
  })

  it('accepts Sec-Fetch-Site: same-origin, whatever Host the proxy sent', async () => {
    const cookie = await signIn(plain.base, { origin: PUBLIC_URL, 'sec-fetch-site': 'same-origin' })
    expect(await readWith(plain.base, cookie)).toBe(200)
  })

  it('refuses cross-site sign-ins: Sec-Fetch-Site cross-site or same-site, or a foreign Origin', async () => {
    const body = JSON.stringify({ api_key: KEY })
    const cases: Record<string, string>[] = [
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: PUBLIC_URL, 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.media.example.com', 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'http://media.example.com' },
      { origin: 'null' },
    ]
    for (const headers of cases) {
      const res = await fetch(`${proxied.base}/dashboard/session`, { method: 'POST', headers: { ...json, ...headers }, body })
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect(res.headers.get('set-cookie'), JSON.stringify(headers)).toBeNull()
    }
  })
})
