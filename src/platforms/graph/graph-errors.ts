/**
 * Graph API failures mapped to mediagate's error vocabulary, at the edge. Graph answers
 * `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`; we branch on `code` (the
 * HTTP status for a given code varies between sources) and keep Meta's code as `vendorCode`.
 */
import { MediagateError } from '../../errors.js'
import { parseRetryAfter } from '../../fetch/retry-after.js'

/** The fields of Graph's error envelope that we use. */
export interface GraphErrorEnvelope {
  message?: string
  type?: string
  code?: number
  subcode?: number
  fbtraceId?: string
}

const AUTH_CODES = new Set([0, 190])
// 4 app, 80007 WABA and 130429 Cloud API throughput are the WhatsApp media limits; 17, 32 and
// 613 are Graph's user, page and custom rate limits, which mean the same thing to us.
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80007, 130429])
const TRANSIENT_CODES = new Set([1, 2])
const UNKNOWN_OBJECT_CODE = 100
const UNKNOWN_OBJECT_SUBCODE = 33

function asInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v)
  return undefined
}

/** The error envelope in a Graph response body, if it has one. */
export function parseGraphEnvelope(body: Buffer | string): GraphErrorEnvelope | undefined {
  let json: unknown
  try {
    json = JSON.parse(body.toString())
  } catch {
    return undefined
  }
  const error = (json as { error?: unknown } | null)?.error
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as Record<string, unknown>
  return {
    ...(typeof e.message === 'string' ? { message: e.message } : {}),
    ...(typeof e.type === 'string' ? { type: e.type } : {}),
    ...(asInt(e.code) !== undefined ? { code: asInt(e.code) } : {}),
    ...(asInt(e.error_subcode) !== undefined ? { subcode: asInt(e.error_subcode) } : {}),
    ...(typeof e.fbtrace_id === 'string' ? { fbtraceId: e.fbtrace_id } : {}),
  }
}

/** Removes the access token, and anything shaped like a Meta token, from text Meta sent back. */
export function redactToken(text: string, token: string): string {
  const without = token ? text.split(token).join('[token]') : text
  return without.replace(/\bEAA[A-Za-z0-9]{16,}/g, '[token]')
}

export interface GraphFailure {
  status: number
  envelope: GraphErrorEnvelope | undefined
  retryAfter: string | string[] | undefined
  /** What was asked, e.g. `lookup of media 123`. */
  what: string
  accessToken: string
}

/** A non-2xx Graph API answer as a MediagateError. */
export function graphError(f: GraphFailure): MediagateError {
  const { status, envelope } = f
  const code = envelope?.code
  const detail = [
    `Graph answered HTTP ${status}`,
    code !== undefined ? ` code ${code}${envelope?.subcode !== undefined ? `/${envelope.subcode}` : ''}` : '',
    envelope?.message ? `: ${redactToken(envelope.message, f.accessToken).slice(0, 300)}` : '',
    envelope?.fbtraceId ? ` (fbtrace_id ${envelope.fbtraceId})` : '',
  ].join('')
  const message = `${f.what}: ${detail}`
  const vendorCode = code ?? status
  if ((code !== undefined && AUTH_CODES.has(code)) || status === 401) {
    return new MediagateError('auth', message, { vendorCode })
  }
  if ((code !== undefined && RATE_LIMIT_CODES.has(code)) || status === 429) {
    const retryAfterMs = parseRetryAfter(f.retryAfter)
    return new MediagateError('rate_limited', message, { vendorCode, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
  }
  // What Graph says for an id that does not exist, is not ours, or is past its 7 days.
  const unknownObject = code === UNKNOWN_OBJECT_CODE && (envelope?.subcode === undefined || envelope.subcode === UNKNOWN_OBJECT_SUBCODE)
  if (unknownObject || (status === 404 && code === undefined)) {
    return new MediagateError('source_expired', message, { vendorCode })
  }
  if (status >= 500 || (code !== undefined && TRANSIENT_CODES.has(code)) || status < 400) {
    return new MediagateError('upstream', message, { vendorCode })
  }
  return new MediagateError('source_rejected', message, { vendorCode })
}
