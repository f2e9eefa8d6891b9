/**
 * The only way bytes come into mediagate from outside. Every hop of every request is checked:
 * scheme, host against the allowlist, and the addresses actually connected to (see
 * guarded-connector.ts). Redirects are followed here, one checked hop at a time, and the Bearer
 * token travels only to token hosts on the original origin.
 */
import type { LookupFunction } from 'node:net'
import type { Readable } from 'node:stream'
import { Agent } from 'undici'
import { MediagateError } from '../errors.js'
import { guardBody, redactUrl, toFetchError } from './fetch-errors.js'
import { createGuardedConnector } from './guarded-connector.js'
import { HostPolicy, hostMatchesAny } from './host-policy.js'

export interface FetcherOptions {
  /**
   * MEDIAGATE_ALLOWED_HOSTS. A dotted name (`fbcdn.net`) matches itself and its subdomains, over
   * https, to public addresses. An IP literal or single-label name (`127.0.0.1`, `localhost`) is
   * "explicitly listed": it matches only itself and also admits http and non-public addresses.
   */
  allowedHosts: readonly string[]
  /** Sent on every request (Meta's lookaside CDN refuses requests without one). */
  userAgent: string
  /** Redirects followed before `too_many_redirects`. Default 5. */
  maxRedirects?: number
  /** Default 10 s. */
  connectTimeoutMs?: number
  /** Time until the response headers arrive. Default 30 s. */
  headersTimeoutMs?: number
  /** Longest silence between two body chunks; a stalled body fails with `network`. Default 30 s. */
  bodyTimeoutMs?: number
  /** Resolver with `dns.lookup`'s signature (default); tests stub it. Always asked for all addresses. */
  lookup?: LookupFunction
}

export type FetchMethod = 'GET' | 'HEAD' | 'DELETE' | 'POST'

export interface FetchRequest {
  url: string
  /** Extra headers. `Authorization`, `Cookie`, `Host` and `User-Agent` here are ignored: use `bearerToken`. */
  headers?: Record<string, string>
  /** Sent as `Authorization: Bearer …` only to hops whose host matches `tokenHosts`, see `Fetcher`. */
  bearerToken?: string
  /** Host entries (same matching as the allowlist) that may receive the token. */
  tokenHosts?: readonly string[]
  signal?: AbortSignal
  /** Default GET. */
  method?: FetchMethod
  /** Inclusive byte range, sent as `Range: bytes=start-end`. */
  range?: { start: number; end?: number }
  /**
   * A request body (POST): made once per attempt by the caller, since a stream is read once. A
   * request with a body never follows redirects: Meta's upload endpoints do not redirect, and
   * re-sending a body to another host is not something to do silently.
   */
  body?: Readable
}

export interface FetchResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The URL of the last hop, after redirects. */
  url: string
  /** Errors with a `network` MediagateError if the connection dies mid-body; destroy it to discard. */
  body: Readable
  /** The Content-Length header, when present and valid. */
  contentLength: number | undefined
  /** True when `body` already fails unless it has exactly `contentLength` bytes (lengthHeld; the Fetcher's bodies do). */
  lengthHeld?: boolean
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const IGNORED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'host', 'user-agent', 'range'])

export class Fetcher {
  private readonly policy: HostPolicy
  private readonly agent: Agent
  private readonly userAgent: string
  private readonly maxRedirects: number

  constructor(o: FetcherOptions) {
    this.policy = new HostPolicy(o.allowedHosts)
    this.userAgent = o.userAgent
    this.maxRedirects = o.maxRedirects ?? 5
    this.agent = new Agent({
      connect: createGuardedConnector({ policy: this.policy, lookup: o.lookup, connectTimeoutMs: o.connectTimeoutMs ?? 10_000 }),
      headersTimeout: o.headersTimeoutMs ?? 30_000,
      bodyTimeout: o.bodyTimeoutMs ?? 30_000,
    })
  }

  /** True when the host is an explicit allowlist entry (IP literal or single-label name). */
  isExplicitlyListed(host: string): boolean {
    return this.policy.isExplicit(host)
  }

  /**
   * Sends the request, following up to `maxRedirects` redirects. Resolves with any final status
   * (the caller decides what a 404 means); rejects with `host_not_allowed`, `address_refused`,
   * `too_many_redirects`, `network`, or the signal's reason when aborted.
   */
  async get(req: FetchRequest): Promise<FetchResponse> {
    let url = this.checkUrl(parseUrl(req.url))
    let method: FetchMethod = req.method ?? 'GET'
    // Once a redirect leaves the origin, the token stays behind for good.
    let mayCarryToken = true
    for (let redirects = 0; ; redirects++) {
      const headers = this.headersFor(req, url, mayCarryToken)
      let res: Awaited<ReturnType<Agent['request']>>
      try {
        res = await this.agent.request({ origin: url.origin, path: `${url.pathname}${url.search}`, method, headers, signal: req.signal, ...(req.body ? { body: req.body } : {}) })
      } catch (err) {
        throw toFetchError(err, url, req.signal)
      }
      const location = res.headers.location
      if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string' || req.body) {
        const contentLength = parseContentLength(res.headers['content-length'])
        // A HEAD, 204 or 304 answer announces a length it never sends.
        const held = contentLength !== undefined && method !== 'HEAD' && res.statusCode !== 204 && res.statusCode !== 304
        return {
          status: res.statusCode,
          headers: res.headers,
          url: url.href,
          body: guardBody(res.body, url, req.signal, held ? contentLength : undefined),
          contentLength,
          ...(held ? { lengthHeld: true } : {}),
        }
      }
      // undici reports a destroyed unread body as an error; nobody is listening for this one.
      res.body.on('error', () => {}).destroy()
      if (redirects >= this.maxRedirects) {
        throw new MediagateError('too_many_redirects', `more than ${this.maxRedirects} redirects, last from ${redactUrl(url)}`)
      }
      const next = this.checkUrl(parseUrl(location, url))
      if (next.origin !== url.origin) mayCarryToken = false
      url = next
      if (res.statusCode === 303 && method !== 'HEAD') method = 'GET'
    }
  }

  close(): Promise<void> {
    return this.agent.close()
  }

  private checkUrl(url: URL): URL {
    if (url.username || url.password) throw new MediagateError('host_not_allowed', `URLs with credentials are not allowed: ${redactUrl(url)}`)
    if (!this.policy.allows(url.hostname)) {
      throw new MediagateError('host_not_allowed', `${url.hostname} is not in MEDIAGATE_ALLOWED_HOSTS: ${redactUrl(url)}`)
    }
    const plainAllowed = url.protocol === 'http:' && this.policy.isExplicit(url.hostname)
    if (url.protocol !== 'https:' && !plainAllowed) {
      throw new MediagateError('host_not_allowed', `only https is allowed for ${url.hostname} (plain http only for explicitly listed hosts): ${redactUrl(url)}`)
    }
    return url
  }

  /** The token goes only to a token host on the first origin, over https or to an explicit host. */
  private headersFor(req: FetchRequest, url: URL, mayCarryToken: boolean): Record<string, string> {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      if (!IGNORED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value
    }
    headers['user-agent'] = this.userAgent
    if (req.range) headers.range = rangeHeader(req.range)
    const secure = url.protocol === 'https:' || this.policy.isExplicit(url.hostname)
    if (req.bearerToken && mayCarryToken && secure && hostMatchesAny(url.hostname, req.tokenHosts ?? [])) {
      headers.authorization = `Bearer ${req.bearerToken}`
    }
    return headers
  }
}

function parseUrl(raw: string, base?: URL): URL {
  try {
    return new URL(raw, base)
  } catch (err) {
    throw new MediagateError('host_not_allowed', `not a valid URL: ${redactUrl(raw)}`, { cause: err })
  }
}

function rangeHeader(range: { start: number; end?: number }): string {
  const { start, end } = range
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new MediagateError('bad_request', `invalid byte range ${start}-${end ?? ''}`)
  }
  return `bytes=${start}-${end ?? ''}`
}

function parseContentLength(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : undefined
}
