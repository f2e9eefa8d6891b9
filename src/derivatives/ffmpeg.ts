/**
 * ffmpeg and ffprobe for audio and video derivatives, run as contained as a child process can be:
 * - found at MEDIAGATE_FFMPEG or on PATH (ffprobe beside it); without them those derivatives are
 *   skipped (`tool_unavailable`) and images still work;
 * - no network: `-protocol_whitelist file,pipe` on every input, so a crafted playlist or
 *   reference inside a file cannot make ffmpeg open a URL;
 * - the input is a read-only temporary copy; outputs go to a private temporary directory;
 * - `-threads` bounds its cores, a lower CPU priority (MEDIAGATE_TOOL_NICE, tool-priority.ts)
 *   lets captures and requests have them first, and a time limit kills it (SIGKILL) however it
 *   is stuck;
 * - what it prints is bounded, so a chatty or hostile file cannot grow our memory.
 */
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import path from 'node:path'
import { MediagateError } from '../errors.js'
import { lowerProcess } from './tool-priority.js'

export interface FfmpegTools {
  ffmpeg: string
  ffprobe: string
  timeoutMs: number
  threads: number
  /** Added to the gateway's nice for each run (MEDIAGATE_TOOL_NICE); 0 runs it at the gateway's priority. */
  nice: number
}

export interface ToolLimits {
  timeoutMs: number
  nice?: number
  signal?: AbortSignal
}

/** The limits every run of `tools` gets. */
export function toolLimits(tools: FfmpegTools, signal?: AbortSignal): ToolLimits {
  return { timeoutMs: tools.timeoutMs, nice: tools.nice, ...(signal ? { signal } : {}) }
}

/** Most bytes of stdout kept (probe JSON, a poster frame, PCM for a waveform); stderr keeps less. */
const MAX_STDOUT_BYTES = 64 * 1024 * 1024
const MAX_STDERR_BYTES = 16 * 1024

/** Where ffmpeg and ffprobe are, or undefined when either is missing. */
export function locateFfmpeg(configured: string | undefined, envPath: string = process.env.PATH ?? ''): { ffmpeg: string; ffprobe: string } | undefined {
  if (configured) {
    const ffprobe = path.join(path.dirname(configured), 'ffprobe')
    return executable(configured) && executable(ffprobe) ? { ffmpeg: configured, ffprobe } : undefined
  }
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const ffmpeg = path.join(dir, 'ffmpeg')
    const ffprobe = path.join(dir, 'ffprobe')
    if (executable(ffmpeg) && executable(ffprobe)) return { ffmpeg, ffprobe }
  }
  return undefined
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The flags that go before every input: no network, no stdin, quiet. */
export function inputGuard(): string[] {
  return ['-nostdin', '-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,pipe']
}

/**
 * Runs a tool to its end; resolves with its stdout. A non-zero exit is `unprocessable_media`
 * (the file is what it cannot read), the time limit or an abort kills it.
 */
export function runTool(bin: string, args: string[], options: ToolLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } })
    // At once, before it has done more than start: Node cannot spawn at another priority.
    lowerProcess(child.pid, options.nice ?? 0)
    const out: Buffer[] = []
    let outBytes = 0
    let err = ''
    let failure: MediagateError | undefined
    const kill = (why: MediagateError) => {
      failure ??= why
      child.kill('SIGKILL')
    }
    const timer = setTimeout(() => kill(new MediagateError('unprocessable_media', `${path.basename(bin)} did not finish within ${options.timeoutMs} ms (MEDIAGATE_FFMPEG_TIMEOUT_MS)`)), options.timeoutMs)
    const onAbort = () => kill(new MediagateError('network', `${path.basename(bin)} was stopped`, { cause: options.signal?.reason }))
    options.signal?.addEventListener('abort', onAbort, { once: true })
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length
      if (outBytes > MAX_STDOUT_BYTES) kill(new MediagateError('unprocessable_media', `${path.basename(bin)} wrote more than ${MAX_STDOUT_BYTES} bytes`))
      else out.push(chunk)
    })
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < MAX_STDERR_BYTES) err += chunk.toString('utf8').slice(0, MAX_STDERR_BYTES - err.length)
    })
    child.on('error', (e) => kill(new MediagateError('tool_unavailable', `${bin} could not be started: ${e.message}`, { cause: e })))
    child.on('close', (code) => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      if (failure) reject(failure)
      else if (code !== 0) reject(new MediagateError('unprocessable_media', `${path.basename(bin)} failed (exit ${code}): ${lastLine(err) || 'no message'}`))
      else resolve(Buffer.concat(out))
    })
  })
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? ''
}

/** What ffprobe says about a file: its duration, and its first video and audio streams. */
export interface Probe {
  durationMs: number | null
  format: string
  video: { codec: string; width: number; height: number } | undefined
  audio: { codec: string } | undefined
}

export async function probe(tools: FfmpegTools, file: string, signal?: AbortSignal): Promise<Probe> {
  const out = await runTool(tools.ffprobe, [...inputGuard().filter((a) => a !== '-nostdin'), '-print_format', 'json', '-show_format', '-show_streams', file], toolLimits(tools, signal))
  let parsed: { format?: { duration?: string; format_name?: string }; streams?: { codec_type?: string; codec_name?: string; width?: number; height?: number; disposition?: { attached_pic?: number } }[] }
  try {
    parsed = JSON.parse(out.toString('utf8'))
  } catch (e) {
    throw new MediagateError('unprocessable_media', 'ffprobe answered with something that is not JSON', { cause: e })
  }
  const streams = parsed.streams ?? []
  // Cover art in an audio file is a "video" stream too; it is no video.
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic)
  const audio = streams.find((s) => s.codec_type === 'audio')
  const seconds = Number(parsed.format?.duration)
  return {
    durationMs: Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : null,
    format: parsed.format?.format_name ?? '',
    video: video && video.width && video.height ? { codec: video.codec_name ?? '', width: video.width, height: video.height } : undefined,
    audio: audio ? { codec: audio.codec_name ?? '' } : undefined,
  }
}
