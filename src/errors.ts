/**
 * mediagate's error vocabulary. Every error we throw or record is a `MediagateError` with a
 * stable `code` that clients may branch on; vendor errors (Graph, S3, SQL, sockets) are mapped
 * to one of these at the adapter edge and kept as `cause`. Codes are never reused for another
 * meaning: add a new one instead. `test/errors.test.ts` keeps this table and the README in sync.
 */

export const ERROR_CODES = {
  // configuration and requests
  invalid_config: { status: 500, retryable: false, summary: 'a configuration value is missing or wrong' },
  bad_request: { status: 400, retryable: false, summary: 'the request is malformed' },
  unauthorized: { status: 401, retryable: false, summary: 'missing or wrong API key or signature' },
  forbidden: { status: 403, retryable: false, summary: 'the request is not allowed' },
  not_found: { status: 404, retryable: false, summary: 'no such resource' },
  conflict: { status: 409, retryable: false, summary: 'the resource is not in a state that allows this' },
  count_changed: { status: 409, retryable: false, summary: 'a batch action found another number of media matching its filter than `expected` (the count its confirmation showed); nothing was done, the answer carries the new `count`' },
  payload_too_large: { status: 413, retryable: false, summary: 'the request body is too large' },
  too_many_requests: { status: 429, retryable: true, summary: 'too many failed dashboard sign-ins from this address; try again after Retry-After' },
  // capture: what can go wrong between Meta and the blob store
  network: { status: 502, retryable: true, summary: 'connection failed, reset or timed out' },
  upstream: { status: 502, retryable: true, summary: 'Meta answered with a server error (5xx)' },
  rate_limited: { status: 503, retryable: true, summary: 'Meta asked us to slow down (429, Graph 4/80007/130429)' },
  auth: { status: 502, retryable: false, summary: 'Meta refused the access token (401, Graph 190); fix the token, then retry' },
  source_expired: { status: 410, retryable: false, summary: 'the media id or CDN URL is no longer valid at Meta' },
  source_rejected: { status: 502, retryable: false, summary: 'Meta answered the lookup or download with a client error (4xx)' },
  integrity: { status: 502, retryable: false, summary: "the bytes do not match Meta's declared sha256 or size" },
  too_large: { status: 413, retryable: false, summary: 'the media is larger than MEDIAGATE_MAX_BYTES' },
  host_not_allowed: { status: 502, retryable: false, summary: 'the URL host is not in MEDIAGATE_ALLOWED_HOSTS or the scheme is not allowed' },
  address_refused: { status: 502, retryable: false, summary: 'the host resolves to a loopback, private, link-local or otherwise non-public address' },
  too_many_redirects: { status: 502, retryable: false, summary: 'the download was redirected too many times' },
  meta_error: { status: 502, retryable: false, summary: 'Meta reported in the webhook that the media could not be delivered' },
  deleted: { status: 410, retryable: false, summary: 'the media was deleted (retention, DELETE or an unsend); only its tombstone is kept' },
  // derivatives: thumbnails, previews and facts (src/derivatives)
  no_thumbnail: { status: 404, retryable: false, summary: 'this media cannot have a thumbnail (audio, documents other than PDF), or making one failed (see derivatives.error)' },
  no_preview: { status: 404, retryable: false, summary: 'this media has no playable preview: it is not audio or video, or making one failed (see derivatives.error)' },
  unprocessable_media: { status: 422, retryable: false, summary: 'the stored bytes could not be decoded for a thumbnail, preview or facts: corrupt, unsupported, or more pixels than MEDIAGATE_MAX_PIXELS' },
  tool_unavailable: { status: 503, retryable: false, summary: 'a tool deriving needs is not installed (ffmpeg for audio and video: MEDIAGATE_FFMPEG); `mediagate doctor` says how to enable it' },
  // malware scanning (MEDIAGATE_CLAMAV_URL)
  infected: { status: 422, retryable: false, summary: 'the malware scanner found a signature in the bytes (named in the message); the blob is quarantined, never served or forwarded' },
  too_large_to_scan: { status: 422, retryable: false, summary: "the media is larger than clamd's stream limit (MEDIAGATE_CLAMAV_STREAM_MAX_BYTES) and MEDIAGATE_CLAMAV_OVERSIZE is `fail`" },
  // outbound media: handles at Meta (src/outbound)
  no_token: { status: 422, retryable: false, summary: 'no access token for that account: add it to mediagate.config.json (WhatsApp numbers also use WHATSAPP_ACCESS_TOKEN)' },
  meta_rejected: { status: 502, retryable: false, summary: "Meta refused the upload (e.g. Graph 131053, media upload error); Meta's message is kept" },
  unsupported_media: { status: 422, retryable: false, summary: 'the platform does not take this type of media and mediagate cannot convert it (the message names the accepted types)' },
  too_large_for_platform: { status: 422, retryable: false, summary: "the media is larger than the platform's limit for its type and mediagate cannot make it smaller (the message names the limit)" },
  // jobs: what the job engine records when a job cannot run to an end
  crashed: { status: 500, retryable: false, summary: 'MEDIAGATE_CRASH_LIMIT attempts in a row ended with their process (a crash, a hang or a lost lease); the job was given up instead of taken again' },
  // our own backends
  storage: { status: 503, retryable: true, summary: 'the blob store failed' },
  catalog: { status: 503, retryable: true, summary: 'the catalog (database) failed' },
  scanner: { status: 503, retryable: true, summary: 'the malware scanner (clamd) could not be reached, timed out or failed; the media stays pending' },
  internal: { status: 500, retryable: false, summary: 'an unexpected error; a bug' },
} as const satisfies Record<string, { status: number; retryable: boolean; summary: string }>

export type ErrorCode = keyof typeof ERROR_CODES

export interface MediagateErrorOptions {
  cause?: unknown
  /** HTTP status to answer with when this error reaches a client; defaults per code. */
  status?: number
  /** Overrides the code's default: e.g. a 404 on a download is retryable by re-resolving. */
  retryable?: boolean
  /** Milliseconds the source asked us to wait (Retry-After). */
  retryAfterMs?: number
  /** The vendor's own code (Graph error code, S3 error name, HTTP status) for diagnostics. */
  vendorCode?: string | number
}

export class MediagateError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  readonly vendorCode: string | number | undefined

  constructor(code: ErrorCode, message: string, options: MediagateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'MediagateError'
    this.code = code
    this.status = options.status ?? ERROR_CODES[code].status
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable
    this.retryAfterMs = options.retryAfterMs
    this.vendorCode = options.vendorCode
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message }
  }
}

export function isMediagateError(err: unknown): err is MediagateError {
  return err instanceof MediagateError
}

/** Wraps anything thrown into a MediagateError, keeping the original as `cause`. */
export function toMediagateError(err: unknown, fallback: ErrorCode = 'internal'): MediagateError {
  if (err instanceof MediagateError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new MediagateError(fallback, message, { cause: err })
}
