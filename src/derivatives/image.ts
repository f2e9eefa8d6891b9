/**
 * Image derivatives with sharp (libvips): thumbnails at the three sizes the API serves, the
 * displayed width and height, and a ThumbHash placeholder. Only the formats listed are decoded
 * (no SVG: it may reference other files), at most `maxPixels` (decompression bombs are refused
 * before decoding), the first frame of animations, EXIF orientation applied. Outputs carry no
 * metadata: sharp writes none unless asked (no EXIF, GPS, XMP or ICC beyond sRGB).
 */
import sharp, { type CreateRaw, type OutputInfo } from 'sharp'
import { rgbaToThumbHash } from 'thumbhash'
import { MediagateError } from '../errors.js'
import { lowerLibvipsThreads } from './tool-priority.js'

/** Longest side of each thumbnail, in pixels; 320 is the default the API serves. */
export const THUMBNAIL_SIZES = [96, 320, 640] as const
export type ThumbnailSize = (typeof THUMBNAIL_SIZES)[number]

/** Types an image thumbnail is made from (sniffed). */
export const DECODABLE_IMAGES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/tiff'])

const WEBP_QUALITY = 75

export interface ImageDerivation {
  width: number
  height: number
  placeholder: string
  thumbnails: { size: ThumbnailSize; data: Buffer }[]
}

export interface ImageOptions {
  maxPixels: number
}

/**
 * libvips threads per image operation. One: a derivation then keeps at most one core busy, so
 * MEDIAGATE_DERIVE_CONCURRENCY is the number of cores deriving may take from capture.
 */
sharp.concurrency(1)

/** Thumbnails, size and placeholder of an image file or buffer. */
export async function deriveImage(input: string | Buffer, options: ImageOptions): Promise<ImageDerivation> {
  try {
    const source = sharp(input, { limitInputPixels: options.maxPixels, failOn: 'error', pages: 1, autoOrient: true })
    const meta = await source.metadata()
    const width = meta.autoOrient?.width ?? meta.width
    const height = meta.autoOrient?.height ?? meta.height
    if (!width || !height) throw new MediagateError('unprocessable_media', 'the image has no dimensions')
    // The original is decoded once (JPEG shrinks while it decodes), down to the largest size;
    // the smaller thumbnails are made from that, not from the original again. Raw pixels come
    // out in sRGB with the image's own channels: 3, or 4 with alpha (adding an alpha channel to
    // every photo cost each resize and encode a third more pixels to move).
    const largest = THUMBNAIL_SIZES.at(-1)!
    const smallest = THUMBNAIL_SIZES[0]
    const base = await source.resize(inside(largest)).raw().toBuffer({ resolveWithObject: true })
    // The smallest thumbnail's pixels are also the placeholder's (ThumbHash takes at most 100×100).
    const least = await sharp(base.data, rawOf(base.info)).resize(inside(smallest)).raw().toBuffer({ resolveWithObject: true })
    // One after the other: a derivation holds one libuv thread (shared with capture's file I/O), not three.
    const thumbnails: ImageDerivation['thumbnails'] = []
    for (const size of THUMBNAIL_SIZES) {
      const image = size === smallest ? sharp(least.data, rawOf(least.info)) : size === largest ? sharp(base.data, rawOf(base.info)) : sharp(base.data, rawOf(base.info)).resize(inside(size))
      thumbnails.push({ size, data: await image.webp({ quality: WEBP_QUALITY }).toBuffer() })
    }
    const placeholder = Buffer.from(rgbaToThumbHash(least.info.width, least.info.height, rgba(least.data, least.info.channels))).toString('base64')
    return { width, height, placeholder, thumbnails }
  } catch (err) {
    throw asImageError(err)
  } finally {
    // libvips may have grown its pool for this image: its new threads get the tools' priority.
    lowerLibvipsThreads()
  }
}

/** The image without its metadata (EXIF, GPS, XMP, IPTC), same format, for MEDIAGATE_STRIP_METADATA. */
export async function stripImageMetadata(input: Buffer, options: ImageOptions): Promise<Buffer> {
  try {
    // Re-encoded at high quality: libvips cannot drop metadata without writing the pixels anew.
    // Orientation is applied first so the picture still stands the right way up.
    const image = sharp(input, { limitInputPixels: options.maxPixels, failOn: 'error', animated: true, autoOrient: true })
    const { format } = await image.metadata()
    if (format === 'jpeg') return await image.jpeg({ quality: 92, mozjpeg: false }).toBuffer()
    if (format === 'png') return await image.png().toBuffer()
    if (format === 'webp') return await image.webp({ quality: 92 }).toBuffer()
    if (format === 'gif') return await image.gif().toBuffer()
    if (format === 'heif') return await image.avif({ quality: 80 }).toBuffer()
    if (format === 'tiff') return await image.tiff().toBuffer()
    throw new MediagateError('unprocessable_media', `cannot strip metadata from ${format ?? 'this'} images`)
  } catch (err) {
    throw asImageError(err)
  } finally {
    lowerLibvipsThreads()
  }
}

const inside = (side: number) => ({ width: side, height: side, fit: 'inside' as const, withoutEnlargement: true })

function rawOf(info: OutputInfo): { raw: CreateRaw } {
  return { raw: { width: info.width, height: info.height, channels: info.channels } }
}

/** sharp's raw output is sRGB, 3 or 4 channels; ThumbHash wants 4. */
function rgba(pixels: Buffer, channels: number): Uint8Array {
  if (channels === 4) return pixels
  if (channels !== 3) throw new MediagateError('unprocessable_media', `the image decoded to ${channels} channels, not RGB`)
  const out = new Uint8Array((pixels.length / 3) * 4)
  for (let i = 0, j = 0; i < pixels.length; i += 3, j += 4) {
    out[j] = pixels[i]!
    out[j + 1] = pixels[i + 1]!
    out[j + 2] = pixels[i + 2]!
    out[j + 3] = 255
  }
  return out
}

function asImageError(err: unknown): MediagateError {
  if (err instanceof MediagateError) return err
  const message = err instanceof Error ? err.message : String(err)
  const bomb = /pixel limit/i.test(message)
  return new MediagateError('unprocessable_media', bomb ? `the image has more pixels than MEDIAGATE_MAX_PIXELS allows: ${message}` : `the image could not be decoded: ${message}`, { cause: err })
}
