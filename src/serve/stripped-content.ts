/**
 * MEDIAGATE_STRIP_METADATA: an image's `/content` (API and signed links) is served without its
 * EXIF, GPS or other metadata, from a derivative made once (made now if it is missing); the
 * original stays stored, and `?original=1` with the API key returns it. Location data in a
 * customer's photo then does not reach every agent's browser by default.
 */
import type { SingleFlight } from '../derivatives/single-flight.js'
import { derivedType } from '../derivatives/plan.js'
import type { MediaRecord } from '../media/record.js'
import { asContent } from './derivative-routes.js'

export interface StrippedContent {
  derivations: Pick<SingleFlight, 'ensure'>
  signal: AbortSignal
}

/** The record to serve as content: the stripped rendition of a stored image, else the media itself. */
export async function contentRecord(media: MediaRecord, stripped: StrippedContent | undefined): Promise<MediaRecord> {
  if (!stripped || media.status !== 'stored' || derivedType(media) !== 'image') return media
  const row = (await stripped.derivations.ensure(media, stripped.signal)).find((r) => r.name === 'stripped' && r.size !== null)
  // An image that cannot be decoded has nothing to strip that a browser would show either.
  return row ? { ...asContent(media, row), filename: media.filename } : media
}
