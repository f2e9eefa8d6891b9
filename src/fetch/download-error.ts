/**
 * A non-2xx answer to a media download, mapped the same way for every source (WhatsApp's
 * Graph-issued URLs and the Messenger/Instagram CDN): refused or gone → `source_expired`,
 * 429 → `rate_limited` with Retry-After in either of its forms, 5xx → `upstream`, any other
 * 4xx → `source_rejected`. Meta's status is kept as `vendorCode`.
 */
import { MediagateError } from '../errors.js'
import { parseRetryAfter } from './retry-after.js'

export interface DownloadErrorContext {
  /** What was downloaded, safe to show (no token, no signature). */
  where: string
  /**
   * A fresh URL can be had (WhatsApp: look the media id up again), so an expired URL is worth
   * retrying. Messenger/Instagram CDN URLs have nothing to come back with.
   */
  renewable: boolean
}

export function downloadError(status: number, retryAfter: string | string[] | undefined, context: DownloadErrorContext): MediagateError {
  const message = `media download answered HTTP ${status}: ${context.where}`
  if (status === 401 || status === 403 || status === 404 || status === 410) {
    return context.renewable
      ? new MediagateError('source_expired', `${message}; the URL has expired or was refused, look the media id up again`, { vendorCode: status, retryable: true })
      : new MediagateError('source_expired', `${message}; the CDN refused the URL, and Messenger/Instagram URLs expire`, { vendorCode: status })
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter)
    return new MediagateError('rate_limited', message, { vendorCode: status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
  }
  if (status >= 500 || status < 400) return new MediagateError('upstream', message, { vendorCode: status })
  return new MediagateError('source_rejected', message, { vendorCode: status })
}
