/**
 * Audio and video derivatives with ffmpeg (ffmpeg.ts says how it is contained): duration, size,
 * a voice note's waveform, a poster frame for video thumbnails, and a browser-playable preview
 * (AAC in MP4 for audio; H.264/AAC MP4 for video that is not already that). Previews carry no
 * metadata (`-map_metadata -1`).
 */
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { MediagateError } from '../errors.js'
import { type FfmpegTools, inputGuard, type Probe, probe, runTool, toolLimits } from './ffmpeg.js'

/** Bars in a waveform. */
export const WAVEFORM_BARS = 64
/** Samples per second decoded for a waveform: plenty for 64 bars, little to hold. */
const WAVEFORM_RATE = 4000

export interface AvOptions {
  tools: FfmpegTools
  maxPixels: number
  signal?: AbortSignal
}

function run(options: AvOptions, args: string[]): Promise<Buffer> {
  return runTool(options.tools.ffmpeg, args, toolLimits(options.tools, options.signal))
}

export function probeFile(file: string, options: AvOptions): Promise<Probe> {
  return probe(options.tools, file, options.signal)
}

/** Browsers play H.264 video with AAC (or no) audio in MP4 everywhere, Safari included. */
export function playable(p: Probe, kind: 'audio' | 'video'): boolean {
  const mp4 = p.format.split(',').includes('mp4')
  if (kind === 'audio') return mp4 && p.video === undefined && p.audio?.codec === 'aac'
  return mp4 && p.video?.codec === 'h264' && (p.audio === undefined || p.audio.codec === 'aac')
}

/** AAC in MP4 (`audio/mp4`), written to `out`. */
export async function audioPreview(input: string, out: string, options: AvOptions): Promise<void> {
  await run(options, [...inputGuard(), '-i', input, '-map', '0:a:0', '-vn', '-map_metadata', '-1', '-threads', String(options.tools.threads), '-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart', '-f', 'mp4', '-y', out])
}

/** H.264/AAC in MP4 (`video/mp4`), at most 1280 pixels wide, written to `out`. */
export async function videoPreview(input: string, out: string, options: AvOptions): Promise<void> {
  await run(options, [
    ...inputGuard(),
    '-i',
    input,
    '-map',
    '0:v:0',
    '-map',
    '0:a:0?',
    '-map_metadata',
    '-1',
    '-threads',
    String(options.tools.threads),
    '-vf',
    "scale='min(1280,iw)':-2",
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '28',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    '-y',
    out,
  ])
}

/** One frame (PNG) a little into the video, for its thumbnails; refused above the pixel limit. */
export async function posterFrame(input: string, p: Probe, options: AvOptions, dir: string): Promise<Buffer> {
  if (!p.video) throw new MediagateError('unprocessable_media', 'the video has no picture')
  if (p.video.width * p.video.height > options.maxPixels) {
    throw new MediagateError('unprocessable_media', `the video's frames have more pixels (${p.video.width}×${p.video.height}) than MEDIAGATE_MAX_PIXELS allows`)
  }
  const at = p.durationMs !== null && p.durationMs > 2000 ? 1 : 0
  const out = path.join(dir, 'poster.png')
  await run(options, [...inputGuard(), '-ss', String(at), '-i', input, '-map', '0:v:0', '-frames:v', '1', '-threads', String(options.tools.threads), '-f', 'image2', '-c:v', 'png', '-y', out])
  return readFile(out)
}

/** Loudness over time: WAVEFORM_BARS integers 0..100 (the loudest bar is 100; silence is all 0). */
export async function waveform(input: string, options: AvOptions): Promise<number[]> {
  const pcm = await run(options, [...inputGuard(), '-i', input, '-map', '0:a:0', '-ac', '1', '-ar', String(WAVEFORM_RATE), '-threads', String(options.tools.threads), '-f', 's16le', '-'])
  return barsOf(pcm)
}

/** 16-bit little-endian mono samples → RMS per bar, scaled so the loudest bar is 100. */
export function barsOf(pcm: Buffer): number[] {
  const samples = Math.floor(pcm.length / 2)
  const rms: number[] = []
  for (let bar = 0; bar < WAVEFORM_BARS; bar++) {
    const from = Math.floor((bar * samples) / WAVEFORM_BARS)
    const to = Math.max(from + 1, Math.floor(((bar + 1) * samples) / WAVEFORM_BARS))
    let sum = 0
    let n = 0
    for (let i = from; i < to && i < samples; i++) {
      const v = pcm.readInt16LE(i * 2) / 32768
      sum += v * v
      n++
    }
    rms.push(n > 0 ? Math.sqrt(sum / n) : 0)
  }
  const loudest = Math.max(...rms)
  return rms.map((v) => (loudest > 0 ? Math.round((v / loudest) * 100) : 0))
}
