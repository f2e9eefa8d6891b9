/**
 * How long the HTTP server lets a client take, so that no client, idle or slow, holds a connection
 * forever. Fastify sets none by default. The knobs, and why each is the right one:
 *
 * - `requestMs` (Node's `requestTimeout`, Fastify's `requestTimeout`) bounds *receiving* a request,
 *   headers and body: Node stops counting once the request is in, so it never cuts a response
 *   that is still streaming (a 100 MB download on a slow link is not a long request). A client
 *   that trickles its request (slowloris) gets 408 and is closed.
 * - `headersMs` (Node's `headersTimeout`) bounds the headers alone, tighter.
 * - `idleMs` (Fastify's `connectionTimeout`: the socket's inactivity timeout) closes a connection
 *   on which nothing moved for that long in either direction: a client that stopped reading a
 *   response (its window stays shut, our writes stop) or stopped sending. Every byte that moves
 *   restarts it, so an actively flowing download is never cut. While the server itself has
 *   nothing to send yet (a capture or a download from Meta being waited for), idle-hold.ts holds
 *   it off; the download deadline bounds those waits.
 * - `keepAliveMs`: an idle keep-alive connection between requests; above the 60 s idle timeout
 *   of common load balancers, so they close first and never reuse a connection we just closed.
 * - `checkIntervalMs`: how often Node checks the first two (its default, 30 s, would let them
 *   overrun by that much).
 */
import type { ServerOptions } from 'node:http'

export interface ServerTimeouts {
  requestMs: number
  headersMs: number
  idleMs: number
  keepAliveMs: number
  checkIntervalMs: number
}

export const SERVER_TIMEOUTS: Readonly<ServerTimeouts> = Object.freeze({
  // Meta's webhooks are up to 3 MB; a minute is ample even on a poor link.
  requestMs: 60_000,
  headersMs: 20_000,
  // As nginx's send_timeout: a reader that took nothing for a minute has gone (or paused a video,
  // and will come back with a Range request).
  idleMs: 60_000,
  keepAliveMs: 72_000,
  checkIntervalMs: 5_000,
})

/** The server settings for these timeouts, named as Fastify names them. */
export function serverTimeoutOptions(t: Readonly<ServerTimeouts>): {
  requestTimeout: number
  connectionTimeout: number
  keepAliveTimeout: number
  http: ServerOptions
} {
  return {
    requestTimeout: t.requestMs,
    connectionTimeout: t.idleMs,
    keepAliveTimeout: t.keepAliveMs,
    // Read by http.createServer; the other three are set on the server once it exists.
    http: { requestTimeout: t.requestMs, headersTimeout: Math.min(t.headersMs, t.requestMs), connectionsCheckingInterval: t.checkIntervalMs },
  }
}
