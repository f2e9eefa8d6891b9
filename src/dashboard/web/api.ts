/** The /v1 API and the session endpoints, signed in by the session cookie. */
import { emit } from './events.js'
import type { ApiErrorBody } from './types.js'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export interface ApiOptions {
  method?: string
  /** Sent as a JSON body. */
  json?: unknown
  /** A 401 is only thrown, not announced as a sign-out (the sign-in form itself). */
  quiet?: boolean
}

/**
 * The parsed JSON answer, typed as the caller says the route answers (null for an empty body).
 * The session cookie goes along by itself; state-changing calls add the CSRF header the API
 * demands of cookie-authenticated requests.
 */
export async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const method = options.method || 'GET'
  const headers: Record<string, string> = { accept: 'application/json' }
  if (method !== 'GET' && method !== 'HEAD') headers['x-mediagate-csrf'] = '1'
  let body: string | undefined
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.json)
  }
  const res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' })
  const text = await res.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!res.ok) {
    const err = (data as ApiErrorBody | null)?.error || {}
    if (res.status === 401 && !options.quiet) emit('mediagate:signed-out', null)
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || `HTTP ${res.status}`)
  }
  return data as T
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export function mediaUrl(id: string): string {
  return `/v1/media/${encodeURIComponent(id)}`
}

export function contentUrl(id: string): string {
  return `${mediaUrl(id)}/content`
}

/** A WebP thumbnail, 96, 320 or 640 pixels on its longest side (made on demand if missing). */
export function thumbnailUrl(id: string, size: 96 | 320 | 640 = 320): string {
  return `${mediaUrl(id)}/thumbnail?size=${size}`
}

/** A rendition every browser plays (AAC for voice notes, H.264 for video). */
export function previewUrl(id: string): string {
  return `${mediaUrl(id)}/preview`
}
