/**
 * Socket and undici failures mapped to `network`, and the URL form that error messages may
 * carry. Signed CDN URLs hold their signature in the query string, so messages keep scheme,
 * host and path only.
 */
import { PassThrough, type Readable } from 'node:stream'
import { MediagateError } from '../errors.js'
import { lengthHeld } from './body.js'

/** `https://host/path?…`: the query (signatures, tokens) and any userinfo removed. */
export function redactUrl(url: URL | string): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`
  } catch {
    return '(invalid URL)'
  }
}

const DESCRIPTIONS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'the body stalled',
  UND_ERR_SOCKET: 'the connection closed',
  UND_ERR_CLOSED: 'the connection closed',
  UND_ERR_DESTROYED: 'the connection was destroyed',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the body did not match its Content-Length',
  ECONNRESET: 'the connection was reset',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'the connection closed',
}

function findMediagateError(err: unknown): MediagateError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof MediagateError) return e
  }
  return undefined
}

/**
 * What a failed request or body becomes: the caller's abort reason when it aborted, a
 * MediagateError raised inside the connection (an address refusal) as is, anything else
 * `network` with the original as `cause`.
 */
export function toFetchError(err: unknown, url: URL | string, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason ?? err
  const own = findMediagateError(err)
  if (own) return own
  const code = (err as { code?: unknown } | undefined)?.code
  const what = (typeof code === 'string' && DESCRIPTIONS[code]) || (err instanceof Error ? err.message : String(err))
  return new MediagateError('network', `${what}${typeof code === 'string' ? ` (${code})` : ''}: ${redactUrl(url)}`, { cause: err })
}

/**
 * The response body as handed out: undici's stream behind a PassThrough, so that a connection
 * dying mid-body surfaces as a `network` MediagateError, and a consumer that stops reading
 * (destroys it) releases the connection. With `announced` (a body's Content-Length), that same
 * stream also holds the body to it (lengthHeld): no second stream per download for that.
 */
export function guardBody(body: Readable, url: URL, signal?: AbortSignal, announced?: number): Readable {
  const out = announced === undefined ? new PassThrough() : lengthHeld(announced)
  body.on('error', (err) => out.destroy(toFetchError(err, url, signal) as Error))
  body.on('close', () => {
    if (!body.readableEnded && !out.destroyed) {
      out.destroy(new MediagateError('network', `the connection closed before the body ended: ${redactUrl(url)}`))
    }
  })
  out.on('close', () => body.destroy())
  body.pipe(out)
  return out
}
