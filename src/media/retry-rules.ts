/**
 * Which media a retry may put back in the queue, for `POST /v1/media/{id}/retry`, the batch and
 * `mediagate retry` alike: failed ones, except infected ones (their bytes are quarantined; only a
 * release after review puts them back). The catalog's `requeue` applies the same rule in its UPDATE, so a media
 * that changed after this check is left alone there too.
 */
import type { MediaRecord } from './record.js'

/**
 * Why this media cannot be retried, in words for the operator (the API's 409, a batch's skipped
 * reasons, `mediagate retry`); undefined when it can. Callers name the media.
 */
export function retryRefusal(media: Pick<MediaRecord, 'id' | 'status' | 'error'>): string | undefined {
  if (media.status !== 'failed') return `it is ${media.status}; only failed media can be retried`
  if (media.error?.code === 'infected') {
    return `it is infected: its bytes are quarantined; after review, \`mediagate scan --release ${media.id}\` puts it back`
  }
  return undefined
}
