/**
 * Graph API error envelopes: `{"error":{"message","type","code",["error_subcode"],
 * ["error_data"],"fbtrace_id"}}` with the HTTP status Meta uses for each code. Where the
 * sources disagree on a status (code 4: 400 or 429) the emulator uses 400 and a fault can
 * override it with `lookupStatus`.
 */
import { randomBytes } from 'node:crypto'

export interface GraphErrorResponse {
  status: number
  body: { error: Record<string, unknown> }
}

interface Known {
  status: number
  type: string
  message: string
  transient?: boolean
}

const KNOWN: Record<number, Known> = {
  0: { status: 401, type: 'OAuthException', message: '(#0) AuthException' },
  1: { status: 500, type: 'OAuthException', message: 'An unknown error occurred', transient: true },
  2: { status: 503, type: 'OAuthException', message: 'An unexpected error has occurred. Please retry your request later.', transient: true },
  4: { status: 400, type: 'OAuthException', message: '(#4) Application request limit reached', transient: true },
  10: { status: 403, type: 'OAuthException', message: '(#10) Application does not have permission for this action' },
  100: { status: 400, type: 'OAuthException', message: '(#100) Invalid parameter' },
  190: { status: 401, type: 'OAuthException', message: 'Error validating access token: Session has expired.' },
  200: { status: 403, type: 'OAuthException', message: '(#200) Permissions error' },
  80007: { status: 400, type: 'OAuthException', message: '(#80007) Rate limit issues' },
  130429: { status: 400, type: 'OAuthException', message: '(#130429) Rate limit hit' },
  131056: { status: 400, type: 'OAuthException', message: '(#131056) (Business Account, Consumer Account) pair rate limit hit' },
  131052: { status: 400, type: 'OAuthException', message: '(#131052) Media download error' },
  131053: { status: 400, type: 'OAuthException', message: '(#131053) Media upload error' },
}

/** A trace id shaped like Meta's (11 base64url characters). */
export function fbtraceId(): string {
  return randomBytes(8).toString('base64url')
}

function isWhatsAppCode(code: number): boolean {
  return code >= 130000 || code === 80007
}

export interface GraphErrorOptions {
  status?: number
  message?: string
  type?: string
  subcode?: number
}

export function graphError(code: number, opts: GraphErrorOptions = {}): GraphErrorResponse {
  const known = KNOWN[code]
  const error: Record<string, unknown> = {
    message: opts.message ?? known?.message ?? `(#${code}) Emulated Graph API error`,
    type: opts.type ?? known?.type ?? 'OAuthException',
    code,
  }
  if (opts.subcode !== undefined) error.error_subcode = opts.subcode
  if (known?.transient) error.is_transient = true
  if (isWhatsAppCode(code)) error.error_data = { messaging_product: 'whatsapp', details: String(error.message).replace(/^\(#\d+\) /, '') }
  error.fbtrace_id = fbtraceId()
  return { status: opts.status ?? known?.status ?? 400, body: { error } }
}

/** The envelope Graph answers for an id that is unknown, deleted, expired or not ours. */
export function unsupportedGetRequest(id: string): GraphErrorResponse {
  return graphError(100, {
    type: 'GraphMethodException',
    subcode: 33,
    message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
  })
}

/** The envelope for a bare HTTP status fault: the Graph code that usually comes with it. */
export function graphErrorForStatus(status: number): GraphErrorResponse {
  if (status === 429) return graphError(4, { status })
  if (status === 503) return graphError(2, { status })
  if (status >= 500) return graphError(1, { status })
  if (status === 401) return graphError(190, { status })
  return graphError(100, { status })
}
