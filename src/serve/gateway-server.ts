/**
 * The gateway's HTTP server, made for fastify (its `serverFactory`) so that a route too busy for
 * the framework's per-request work is answered before fastify sees the request: the webhook POST
 * (intake/webhook-post.ts). Everything else goes to fastify. The timeouts are set here, as fastify
 * sets them on a server of its own (server-timeouts.ts says why each): given a server factory,
 * fastify leaves its own timeout options unused.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { FastifyServerFactory } from 'fastify'
import type { ServerTimeouts } from './server-timeouts.js'
import { serverTimeoutOptions } from './server-timeouts.js'

export interface FirstRoute {
  matches(req: IncomingMessage): boolean
  handle(req: IncomingMessage, res: ServerResponse): void
}

export function gatewayServerFactory(timeouts: Readonly<ServerTimeouts>, first: FirstRoute | undefined): FastifyServerFactory {
  const t = serverTimeoutOptions(timeouts)
  return (fastifyHandler) => {
    const server = http.createServer(t.http, first ? (req, res) => (first.matches(req) ? first.handle(req, res) : fastifyHandler(req, res)) : fastifyHandler)
    server.keepAliveTimeout = t.keepAliveTimeout
    server.requestTimeout = t.requestTimeout
    server.setTimeout(t.connectionTimeout)
    return server
  }
}
