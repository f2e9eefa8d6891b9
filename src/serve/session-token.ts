/**
 * Dashboard sessions. The cookie holds `<expires>.<id>.<mac>`: a random session id, when it
 * expires, and an HMAC-SHA256 of both under a key derived from the API key, so the cookie never
 * holds the key and rotating the key ends every session.
 *
 * The MAC alone cannot be taken back, so the catalog keeps one row per session, keyed by a hash
 * of the id (never the id or the cookie: reading the catalog lets nobody in). A request is
 * signed in only while its MAC verifies and its row exists; a logout deletes the row, so it ends
 * the session at once in every process sharing the catalog. Only a cookie whose MAC verifies
 * reaches the catalog at all: forged cookies cost no query, and a forged logout ends nothing.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Sessions } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'

/** Cookie name of the dashboard session. */
export const SESSION_COOKIE = 'mediagate_session'
/** How long a sign-in lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000

const sessionKey = (apiKey: string) => createHmac('sha256', apiKey).update('mediagate dashboard session v1').digest()
const mac = (apiKey: string, expires: number, id: string) => createHmac('sha256', sessionKey(apiKey)).update(`session.v1.${expires}.${id}`).digest()
const digest = (s: string) => createHash('sha256').update(s).digest()

/** What the catalog keys a session by. */
export const sessionIdHash = (id: string): string => createHash('sha256').update(`mediagate session id v1.${id}`).digest('hex')

export interface IssuedSession {
  token: string
  expiresAt: Date
  /** The catalog's key for this session. */
  idHash: string
}

export function issueSessionToken(apiKey: string, now = Date.now()): IssuedSession {
  const expires = Math.floor((now + SESSION_TTL_MS) / 1000)
  const id = randomBytes(16).toString('base64url')
  return { token: `${expires}.${id}.${mac(apiKey, expires, id).toString('base64url')}`, expiresAt: new Date(expires * 1000), idHash: sessionIdHash(id) }
}

/** What a token says about itself once its MAC is checked; undefined when it was not issued under this key. */
interface Authentic {
  idHash: string
  expired: boolean
}

function authenticate(token: string, apiKey: string | undefined, now: number): Authentic | undefined {
  const parsed = parse(token)
  if (!apiKey || !parsed) return undefined
  const { expires, id, given } = parsed
  // A token claiming to live longer than any we issue was not issued by us.
  if (expires * 1000 > now + SESSION_TTL_MS + 60_000) return undefined
  const expected = mac(apiKey, expires, id)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  return { idHash: sessionIdHash(id), expired: expires * 1000 <= now }
}

/**
 * True when the token was issued under this API key and has not expired. This is the MAC alone:
 * whether the session was ended is the catalog's to say (`DashboardSessions.active`).
 */
export function verifySessionToken(token: string, apiKey: string | undefined, now = Date.now()): boolean {
  const found = authenticate(token, apiKey, now)
  return found !== undefined && !found.expired
}

function parse(token: string): { expires: number; id: string; given: Buffer } | undefined {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/.exec(token)
  if (!m) return undefined
  return { expires: Number(m[1]), id: m[2]!, given: Buffer.from(m[3]!, 'base64url') }
}

export interface DashboardSessionsOptions {
  /** Without a key the dashboard is off: nobody signs in and no cookie is accepted. */
  apiKey: string | undefined
  catalog: Sessions
  /** Tests move time; default Date.now. */
  now?: () => number
}

/** Sign-in, session check and logout for one API key, with the sessions kept in the catalog. */
export class DashboardSessions {
  private readonly apiKey: string | undefined
  private readonly expectedKey: Buffer | undefined
  private readonly catalog: Sessions
  private readonly now: () => number

  constructor(options: DashboardSessionsOptions) {
    this.apiKey = options.apiKey || undefined
    this.expectedKey = this.apiKey ? digest(this.apiKey) : undefined
    this.catalog = options.catalog
    this.now = options.now ?? Date.now
  }

  get enabled(): boolean {
    return this.apiKey !== undefined
  }

  /** The sign-in form's key against the API key, in constant time (through hashes, so not even its length leaks). */
  keyMatches(given: unknown): boolean {
    return this.expectedKey !== undefined && typeof given === 'string' && timingSafeEqual(digest(given), this.expectedKey)
  }

  /** A new session, recorded in the catalog before its cookie is handed out. */
  async start(): Promise<{ token: string; expiresAt: Date }> {
    if (!this.apiKey) throw new MediagateError('unauthorized', 'MEDIAGATE_API_KEY is not set; the dashboard is disabled')
    const now = this.now()
    const { token, expiresAt, idHash } = issueSessionToken(this.apiKey, now)
    await this.catalog.createSession({ idHash, createdAt: new Date(now), expiresAt })
    return { token, expiresAt }
  }

  /** True when the token's MAC verifies under this key (no catalog read): worth asking `active`. */
  authentic(token: string): boolean {
    return verifySessionToken(token, this.apiKey, this.now())
  }

  /** Signed in: the MAC verifies, the token has not expired, and the session has not been ended. */
  async active(token: string): Promise<boolean> {
    const now = this.now()
    const found = authenticate(token, this.apiKey, now)
    if (!found || found.expired) return false
    return this.catalog.sessionActive(found.idHash, new Date(now))
  }

  /**
   * Logout. `forged` when the MAC does not verify: nothing is touched. An authentic token ends its
   * session everywhere (an expired one has nothing left to end).
   */
  async end(token: string): Promise<'ended' | 'forged'> {
    const found = authenticate(token, this.apiKey, this.now())
    if (!found) return 'forged'
    if (!found.expired) await this.catalog.endSession(found.idHash)
    return 'ended'
  }
}
