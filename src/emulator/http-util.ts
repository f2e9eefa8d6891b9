/** Small node:http helpers shared by the emulator's routes. */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { MediagateError } from '../errors.js'

/** Headers whose value is undefined are left out, so callers can write optional ones inline. */
function defined(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined))
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, defined({ 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers }))
  res.end(text)
}

export function sendText(res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, defined({ 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers }))
  res.end(text)
}

/** The token from `Authorization: Bearer …`, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
  return match?.[1]
}

/** The label of the accepted token the request carries, or undefined (compared in constant time). */
export function acceptedToken(given: string | undefined, labels: ReadonlyMap<string, string>): string | undefined {
  for (const [token, label] of labels) if (sameSecret(given, token)) return label
  return undefined
}

export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Waits, but gives up early (without throwing) when the client goes away. */
export async function waitUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  if (ms <= 0 || res.destroyed) return
  const abort = new AbortController()
  const onClose = () => abort.abort()
  res.once('close', onClose)
  try {
    await sleep(ms, undefined, { signal: abort.signal })
  } catch {
    // aborted: the client left; the caller sees res.destroyed
  } finally {
    res.off('close', onClose)
  }
}

/** Reads a JSON request body of at most `limit` bytes; an empty body is `{}`. */
export async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > limit) throw new MediagateError('payload_too_large', `request body is larger than ${limit} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new MediagateError('bad_request', 'request body is not valid JSON', { cause: err })
  }
}
