/**
 * What a media can have derived, from its kind and the type sniffed from its bytes (never the
 * declared one alone: a file that calls itself a JPEG is decoded only if it is one).
 */
import type { MediaRecord } from '../media/record.js'
import { DECODABLE_IMAGES, THUMBNAIL_SIZES } from './image.js'

export const NO_FFMPEG = 'ffmpeg is not installed: audio and video derivatives are skipped (install ffmpeg, or set MEDIAGATE_FFMPEG; see `mediagate doctor`)'

export type DerivativeName = 'thumb96' | 'thumb320' | 'thumb640' | 'preview' | 'stripped'
export type DeriveType = 'image' | 'audio' | 'video'

export const THUMBNAIL_NAMES: readonly DerivativeName[] = THUMBNAIL_SIZES.map((s) => `thumb${s}` as DerivativeName)

export interface DerivePlan {
  type: DeriveType
  /** Derivatives this media gets when everything works (a playable original needs no preview). */
  names: DerivativeName[]
  /** Why nothing is derived, when nothing is. */
  skip?: string
}

export function derivedType(media: Pick<MediaRecord, 'sniffedMime' | 'mimeType'>): DeriveType | undefined {
  const type = (media.sniffedMime ?? '').toLowerCase()
  if (DECODABLE_IMAGES.has(type)) return 'image'
  if (type.startsWith('video/')) return 'video'
  if (type.startsWith('audio/')) return 'audio'
  return undefined
}

export function plan(media: Pick<MediaRecord, 'sniffedMime' | 'mimeType'>, options: { ffmpeg: unknown; stripMetadata: boolean }): DerivePlan {
  const type = derivedType(media)
  if (type === undefined) return { type: 'image', names: [], skip: `nothing to derive from ${media.sniffedMime ?? 'an unrecognized type'}` }
  if (type === 'image') return { type, names: [...THUMBNAIL_NAMES, ...(options.stripMetadata ? (['stripped'] as const) : [])] }
  if (!options.ffmpeg) return { type, names: [], skip: NO_FFMPEG }
  // Whether the original plays as it is is known only once probed: the preview is not required.
  return { type, names: type === 'video' ? [...THUMBNAIL_NAMES] : [] }
}

/** Whether a media of this type can have a thumbnail at all. */
export function canHaveThumbnail(media: Pick<MediaRecord, 'sniffedMime' | 'mimeType'>): boolean {
  const type = derivedType(media)
  return type === 'image' || type === 'video'
}
