/** The answer to `GET /{version}/{media-id}`, validated. */
import { MediagateError } from '../../errors.js'

/** A WhatsApp media id resolved through the Graph API. */
export interface MediaInfo {
  id: string
  /** The download URL; lives about 5 minutes and needs the access token. */
  url: string
  /** Empty when Meta sent none. */
  mimeType: string
  /** As Meta sent it, hex or base64 (see normalizeSha256); empty when Meta sent none. */
  sha256: string
  /** `file_size`, which Meta sends as a string or a number; null when absent or unreadable. */
  fileSize: number | null
}

function parseSize(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN
  return Number.isSafeInteger(n) && n >= 0 ? n : null
}

export function parseMediaInfo(json: unknown, requestedId: string, what: string): MediaInfo {
  if (typeof json !== 'object' || json === null) throw new MediagateError('upstream', `${what}: Graph answered something that is not a JSON object`)
  const o = json as Record<string, unknown>
  const url = o.url
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) {
    throw new MediagateError('upstream', `${what}: Graph's answer has no download url`)
  }
  const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : requestedId
  return {
    id,
    url,
    mimeType: typeof o.mime_type === 'string' ? o.mime_type : '',
    sha256: typeof o.sha256 === 'string' ? o.sha256 : '',
    fileSize: parseSize(o.file_size),
  }
}
