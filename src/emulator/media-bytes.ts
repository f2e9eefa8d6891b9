/**
 * The exact bytes a registered media serves, for tests that compare what a client stored with
 * what the emulator sent. `streamOf` never buffers, so it suits 500 MB generated media too.
 */
import type { Readable } from 'node:stream'
import { MediagateError } from '../errors.js'
import { streamSource } from './byte-source.js'
import { StoredMedia } from './media-store.js'
import type { RegisteredMedia } from './types.js'

const MAX_BUFFERED = 256 * 1024 * 1024

function storedOf(media: RegisteredMedia): StoredMedia {
  if (!(media instanceof StoredMedia)) throw new MediagateError('bad_request', 'not a media registered with the emulator')
  return media
}

/** All the media's bytes in one buffer (mind the size of generated media). */
export function bytesOf(media: RegisteredMedia): Buffer {
  const stored = storedOf(media)
  if (stored.size > MAX_BUFFERED) throw new MediagateError('too_large', `bytesOf: ${stored.size} bytes is too large to buffer; use streamOf`)
  return stored.size === 0 ? Buffer.alloc(0) : stored.source.open(0).read(stored.size)
}

/** The media's bytes `[start, end]` (inclusive; default: all) as a stream. */
export function streamOf(media: RegisteredMedia, start?: number, end?: number): Readable {
  const stored = storedOf(media)
  return streamSource(stored.source, start, end)
}
