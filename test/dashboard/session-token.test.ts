import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { readCookie, sessionCookie } from '../../src/serve/cookies.js'
import { DashboardSessions, issueSessionToken, SESSION_TTL_MS, verifySessionToken } from '../../src/serve/session-token.js'

const KEY = 'dashboard-test-key-0123456789'

describe('session tokens', () => {
  it('verifies a token issued under the same key, and never contains the key', () => {
    const { token, expiresAt } = issueSessionToken(KEY)
    expect(verifySessionToken(token, KEY)).toBe(true)
    expect(token).not.toContain(KEY)
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + SESSION_TTL_MS - 2000)
  })

  it('refuses another key, no key, and a tampered token', () => {
    const { token } = issueSessionToken(KEY)
    expect(verifySessionToken(token, 'another-key')).toBe(false)
    expect(verifySessionToken(token, undefined)).toBe(false)
    const [exp, nonce, mac] = token.split('.') as [string, string, string]
    expect(verifySessionToken(`${Number(exp) + 1}.${nonce}.${mac}`, KEY)).toBe(false)
    expect(verifySessionToken(`${exp}.${nonce}x.${mac}`, KEY)).toBe(false)
    const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`
    expect(verifySessionToken(`${exp}.${nonce}.${flipped}`, KEY)).toBe(false)
    for (const junk of ['', 'x', '1.2.3', `${exp}.${nonce}`, `${token}.extra`]) expect(verifySessionToken(junk, KEY)).toBe(false)
  })

  it('expires', () => {
    const issuedAt = Date.now()
    const { token } = issueSessionToken(KEY, issuedAt)
    expect(verifySessionToken(token, KEY, issuedAt + SESSION_TTL_MS - 5000)).toBe(true)
    expect(verifySessionToken(token, KEY, issuedAt + SESSION_TTL_MS + 1000)).toBe(false)
  })

  it('refuses a token claiming a life longer than any issued one', () => {
    const { token } = issueSessionToken(KEY, Date.now() + 10 * SESSION_TTL_MS)
    expect(verifySessionToken(token, KEY)).toBe(false)
  })

})

describe('sessions in the catalog', () => {
  let catalog: SqliteCatalog
  const dir = mkdtempSync(path.join(tmpdir(), 'mediagate-sessions-'))
  const file = path.join(dir, 'catalog.db')
  beforeAll(async () => {
    catalog = new SqliteCatalog({ path: file })
    await catalog.migrate()
  })
  afterAll(async () => {
    await catalog?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses a revoked token and keeps accepting others', async () => {
    const sessions = new DashboardSessions({ apiKey: KEY, catalog })
    const a = (await sessions.start()).token
    const b = (await sessions.start()).token
    expect(await sessions.end(a)).toBe('ended')
    expect(await sessions.active(a)).toBe(false)
    expect(await sessions.active(b)).toBe(true)
  })

  it('accepts only tokens it recorded: a MAC alone, without its row, signs nobody in', async () => {
    const sessions = new DashboardSessions({ apiKey: KEY, catalog })
    const unrecorded = issueSessionToken(KEY).token
    expect(verifySessionToken(unrecorded, KEY)).toBe(true)
    expect(await sessions.active(unrecorded)).toBe(false)
  })

  it('keeps in the catalog a hash of the session id, never the cookie or the id', async () => {
    const sessions = new DashboardSessions({ apiKey: KEY, catalog })
    const { token } = await sessions.start()
    const [, id, mac] = token.split('.') as [string, string, string]
    const raw = new BetterSqlite3(file, { readonly: true })
    const dump = JSON.stringify(raw.prepare('select * from dashboard_sessions').all())
    raw.close()
    expect(dump).toMatch(/[0-9a-f]{64}/)
    for (const secret of [token, id, mac, KEY]) expect(dump).not.toContain(secret)
  })

  it('ends every session when the API key changes, and a cookie under another key ends nothing', async () => {
    const before = new DashboardSessions({ apiKey: KEY, catalog })
    const after = new DashboardSessions({ apiKey: `${KEY}-rotated`, catalog })
    const { token } = await before.start()
    expect(await after.active(token)).toBe(false)
    expect(await after.end(token)).toBe('forged')
    expect(await before.active(token)).toBe(true)
  })

  it('ends an expired session without a trace and never reports it active', async () => {
    let now = Date.now()
    const sessions = new DashboardSessions({ apiKey: KEY, catalog, now: () => now })
    const { token } = await sessions.start()
    now += SESSION_TTL_MS + 1000
    expect(await sessions.active(token)).toBe(false)
    expect(await sessions.end(token)).toBe('ended')
  })
})

describe('cookies', () => {
  it('reads one cookie among several', () => {
    expect(readCookie('a=1; mediagate_session=abc.def; b=2', 'mediagate_session')).toBe('abc.def')
    expect(readCookie('xmediagate_session=1', 'mediagate_session')).toBeUndefined()
    expect(readCookie(undefined, 'a')).toBeUndefined()
    expect(readCookie('a="q"', 'a')).toBe('q')
  })

  it('writes HttpOnly, SameSite=Strict, Path=/ and Secure only when asked', () => {
    const plain = sessionCookie('s', 'v', { maxAgeSeconds: 60, secure: false })
    expect(plain).toBe('s=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60')
    expect(sessionCookie('s', '', { maxAgeSeconds: 0, secure: true })).toBe('s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure')
  })
})
