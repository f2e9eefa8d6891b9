/**
 * Conversions Meta demands before it takes a media: a voice note as mono OGG/Opus (the only
 * format WhatsApp plays as a voice note), an image of another type or over the platform's limit
 * as a JPEG within it. The same tools as the derivatives: sharp for images, ffmpeg for audio.
 */
import sharp, { type OutputInfo } from 'sharp'
import { MediagateError } from '../errors.js'
import { type FfmpegTools, inputGuard, runTool, toolLimits } from '../derivatives/ffmpeg.js'
import { lowerLibvipsThreads } from '../derivatives/tool-priority.js'

/** Images sharp reads here (HEIC only where libvips was built with it). */
export const CONVERTIBLE_IMAGES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/tiff', 'image/heic', 'image/heif', 'image/bmp'])

/** Mono OGG/Opus (voice-note settings: 48 kHz, 32 kb/s, VoIP tuning), written to `out`. */
export async function toVoiceNote(tools: FfmpegTools, input: string, out: string, signal?: AbortSignal): Promise<void> {
  const args = [...inputGuard(), '-i', input, '-map', '0:a:0', '-vn', '-map_metadata', '-1', '-threads', String(tools.threads), '-ac', '1', '-ar', '48000', '-c:a', 'libopus', '-b:a', '32k', '-application', 'voip', '-f', 'ogg', '-y', out]
  await runTool(tools.ffmpeg, args, toolLimits(tools, signal))
}

/**
 * A JPEG of the image (its first frame), no larger than `maxBytes`: lower quality first, then
 * smaller dimensions, a bounded number of steps. Transparency goes onto white, as JPEG has none.
 */
export async function toJpegWithin(input: Buffer | string, maxBytes: number, maxPixels: number): Promise<Buffer> {
  let width: number | undefined
  for (let step = 0; step < 12; step++) {
    const quality = [85, 75, 65][Math.min(step, 2)]!
    let image = sharp(input, { pages: 1, limitInputPixels: maxPixels, failOn: 'error' }).rotate().flatten({ background: '#ffffff' })
    if (width !== undefined) image = image.resize({ width, withoutEnlargement: true })
    let out: Buffer
    let info: OutputInfo
    try {
      ;({ data: out, info } = await image.jpeg({ quality, mozjpeg: true }).toBuffer({ resolveWithObject: true }))
    } catch (err) {
      throw new MediagateError('unprocessable_media', `the image could not be converted to JPEG: ${(err as Error).message}`, { cause: err })
    } finally {
      lowerLibvipsThreads()
    }
    if (out.length <= maxBytes) return out
    if (step >= 2) width = Math.max(16, Math.floor(info.width * 0.75))
  }
  throw new MediagateError('too_large_for_platform', `the image could not be made into a JPEG of at most ${maxBytes} bytes`)
}
