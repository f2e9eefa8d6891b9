/**
 * Socket and undici failures mapped to `network`, and the URL form that error messages may
 * carry. Signed CDN URLs hold their signature in the query string, so messages keep scheme,
 * host and path only.
 */
import { Readable } from 'node:stream'
import { MediagateError } from '../errors.js'
import { longerThanAnnounced, truncated } from './body.js'

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
 * The response body as handed out: undici's stream behind one of ours, so that a connection
 * dying mid-body surfaces as a `network` MediagateError, and a consumer that stops reading
 * (destroys it) releases the connection. With `announced` (a body's Content-Length), that same
 * stream also holds the body to it (as lengthHeld does): no second stream per download for that.
 */
export function guardBody(body: Readable, url: URL, signal?: AbortSignal, announced?: number): Readable {
  return new GuardedBody(body, url, signal, announced)
}

/**
 * A plain Readable the source pushes into, with the source paused while ours is full: a
 * PassThrough or Transform piped from the source did the same with a Writable side, a pipe and
 * their callbacks on every chunk, twice per captured media (the Graph lookup and the download).
 */
class GuardedBody extends Readable {
  private seen = 0

  constructor(
    private readonly source: Readable,
    url: URL,
    signal: AbortSignal | undefined,
    private readonly announced: number | undefined,
  ) {
    super()
    source.on('data', (chunk: Buffer) => this.onChunk(chunk))
    source.once('end', () => {
      if (this.announced !== undefined && this.seen < this.announced) this.destroy(truncated(this.seen, this.announced))
      else this.push(null)
    })
    source.on('error', (err) => this.destroy(toFetchError(err, url, signal) as Error))
    source.once('close', () => {
      if (!source.readableEnded && !this.destroyed) this.destroy(new MediagateError('network', `the connection closed before the body ended: ${redactUrl(url)}`))
    })
  }

  private onChunk(chunk: Buffer): void {
    if (this.destroyed) return
    this.seen += chunk.length
    if (this.announced !== undefined && this.seen > this.announced) this.destroy(longerThanAnnounced(this.announced))
    else if (!this.push(chunk)) this.source.pause()
  }

  override _read(): void {
    if (this.source.isPaused()) this.source.resume()
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.source.destroy()
    callback(err)
  }
}
