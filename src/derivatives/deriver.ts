/**
 * Derives one stored media: reads an image of up to IN_MEMORY_IMAGE_BYTES into memory, or copies
 * anything else to a private read-only temporary file (ffmpeg reads files), makes what its type
 * allows (image.ts, audio-video.ts), stores each output as a content-addressed blob, and records
 * facts, status and the derivatives in one transaction.
 *
 * Blob safety is the capture's (retention/blob-leaser.ts): each derivative's key is reserved on
 * the media (catalog `reserveDerivatives`) before its blob is committed, so a deletion of the
 * same bytes elsewhere cannot take it in between; a media erased meanwhile refuses the
 * reservation or the record, and the blobs written for it are discarded.
 *
 * Failures that are about the bytes (corrupt, unsupported, too many pixels, no ffmpeg) are an
 * outcome, recorded on the media as `derivatives: {status, error}`; only failures of our own
 * backends (blob store, catalog) throw, so the task is retried.
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BlobStore } from '../blobs/blob-store.js'
import { blobKeyFor } from '../blobs/blob-store.js'
import type { DerivativeRecord, Derivatives, DerivedOutcome } from '../catalog/catalog.js'
import { MediagateError, toMediagateError } from '../errors.js'
import type { MediaFacts, MediaRecord } from '../media/record.js'
import { audioPreview, type AvOptions, playable, posterFrame, probeFile, videoPreview, waveform } from './audio-video.js'
import type { FfmpegTools } from './ffmpeg.js'
import { deriveImage, type ImageDerivation, stripImageMetadata } from './image.js'
import { type DerivativeName, NO_FFMPEG, plan } from './plan.js'

export interface DeriverOptions {
  catalog: Derivatives
  blobs: BlobStore
  /** Undefined: ffmpeg is not installed; audio and video are skipped. */
  ffmpeg: FfmpegTools | undefined
  maxPixels: number
  /** MEDIAGATE_STRIP_METADATA: also store images without their metadata, to serve as `/content`. */
  stripMetadata: boolean
  /** Deletes blobs no live record uses (the eraser's `discard`). */
  discardBlobs: (keys: string[]) => Promise<unknown>
  /** Longest a reservation waits for a deletion of its key to end. Default 10 s. */
  maxReserveWaitMs?: number
  /** Images up to this many bytes are decoded from memory, larger ones from a private file. Default IN_MEMORY_IMAGE_BYTES. */
  inMemoryImageBytes?: number
}

interface Output {
  name: DerivativeName
  mimeType: string
  body: Buffer | { file: string }
}

export class Deriver {
  constructor(private readonly options: DeriverOptions) {}

  /** True when everything this media can have is made (a derivation would change nothing). */
  complete(media: MediaRecord, existing: DerivativeRecord[]): boolean {
    const status = media.derivatives?.status
    if (status !== 'done' && status !== 'skipped' && status !== 'failed') return false
    if (status !== 'done') return true
    const ready = new Set(existing.filter((d) => d.size !== null).map((d) => d.name))
    return plan(media, this.options).names.every((name) => ready.has(name))
  }

  /** Derives `media` now and records the outcome; resolves with it (undefined: the media is not stored). */
  async derive(media: MediaRecord, signal: AbortSignal): Promise<DerivedOutcome | undefined> {
    if (media.status !== 'stored' || !media.blobKey) return undefined
    const work = plan(media, this.options)
    if (work.skip) return this.record(media, { status: 'skipped', error: work.skip, facts: {}, ready: [] })
    // An image small enough is handed to sharp in memory: no temporary file to write, protect
    // and remove. Anything else (ffmpeg reads files) gets its private read-only copy.
    const inMemory = work.type === 'image' && media.size !== null && media.size <= (this.options.inMemoryImageBytes ?? IN_MEMORY_IMAGE_BYTES)
    const dir = inMemory ? undefined : await mkdtemp(path.join(tmpdir(), 'mediagate-derive-'))
    try {
      let input: Buffer | string
      if (dir) {
        input = path.join(dir, 'input')
        await pipeline(await this.options.blobs.read(media.blobKey), createWriteStream(input, { mode: 0o600 }), { signal })
        // ffmpeg and sharp only read it.
        await chmod(input, 0o400)
      } else input = await readWhole(this.options.blobs, media.blobKey, media.size!, signal)
      let made: { facts: Partial<MediaFacts>; outputs: Output[]; error?: string }
      try {
        made = await this.make(media, work.type, input, dir, signal)
      } catch (err) {
        const error = toMediagateError(err)
        if (error.retryable || signal.aborted) throw error
        return this.record(media, { status: error.code === 'tool_unavailable' ? 'skipped' : 'failed', error: `${error.code}: ${error.message}`, facts: {}, ready: [] })
      }
      // Outputs in memory are reserved together (one catalog transaction), then stored all at
      // once (each put's fsyncs overlap the others'); files (previews) reserve their key just
      // before their commit, one after the other.
      const buffers = made.outputs.filter((o) => Buffer.isBuffer(o.body))
      await this.reserveAll(media.id, buffers, signal)
      const ready = await settledInOrder(buffers.map((output) => this.store(media, output, signal, false)))
      for (const output of made.outputs) if (!Buffer.isBuffer(output.body)) ready.push(await this.store(media, output, signal, true))
      const outcome: DerivedOutcome = { status: made.error ? 'failed' : 'done', error: made.error ?? null, facts: made.facts, ready }
      return this.record(media, outcome)
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true })
    }
  }

  private async make(media: MediaRecord, type: ReturnType<typeof plan>['type'], input: Buffer | string, dir: string | undefined, signal: AbortSignal): Promise<{ facts: Partial<MediaFacts>; outputs: Output[]; error?: string }> {
    const { maxPixels } = this.options
    if (type === 'image') {
      const image = await deriveImage(input, { maxPixels })
      const outputs = thumbnailOutputs(image)
      // Served as `/content`: the type stays the original's.
      if (this.options.stripMetadata) outputs.push({ name: 'stripped', mimeType: media.sniffedMime ?? 'application/octet-stream', body: await stripImageMetadata(Buffer.isBuffer(input) ? input : await readFile(input), { maxPixels }) })
      return { facts: { width: image.width, height: image.height, placeholder: image.placeholder }, outputs }
    }
    const tools = this.options.ffmpeg
    // Only images are read into memory (derive), so audio and video always have their file.
    if (typeof input !== 'string' || dir === undefined) throw new MediagateError('internal', `a ${type} is derived from a file`)
    if (!tools) throw new MediagateError('tool_unavailable', NO_FFMPEG)
    const av: AvOptions = { tools, maxPixels, signal }
    const probed = await probeFile(input, av)
    const facts: Partial<MediaFacts> = { durationMs: probed.durationMs }
    const outputs: Output[] = []
    let error: string | undefined
    const attempt = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn()
      } catch (err) {
        const e = toMediagateError(err)
        if (e.retryable || signal.aborted) throw e
        error ??= `${e.code}: ${what}: ${e.message}`
      }
    }
    if (type === 'audio') {
      if (!probed.audio) throw new MediagateError('unprocessable_media', 'the file has no audio stream')
      await attempt('waveform', async () => void (facts.waveform = await waveform(input, av)))
      if (!playable(probed, 'audio')) {
        await attempt('preview', async () => {
          const out = path.join(dir, 'preview.m4a')
          await audioPreview(input, out, av)
          outputs.push({ name: 'preview', mimeType: 'audio/mp4', body: { file: out } })
        })
      }
      return { facts, outputs, ...(error ? { error } : {}) }
    }
    if (!probed.video) throw new MediagateError('unprocessable_media', 'the file has no video stream')
    facts.width = probed.video.width
    facts.height = probed.video.height
    await attempt('poster', async () => {
      const image = await deriveImage(await posterFrame(input, probed, av, dir), { maxPixels })
      facts.placeholder = image.placeholder
      outputs.push(...thumbnailOutputs(image))
    })
    if (!playable(probed, 'video')) {
      await attempt('preview', async () => {
        const out = path.join(dir, 'preview.mp4')
        await videoPreview(input, out, av)
        outputs.push({ name: 'preview', mimeType: 'video/mp4', body: { file: out } })
      })
    }
    return { facts, outputs, ...(error ? { error } : {}) }
  }

  /** Stores one output under its content's key, reserved on the media before the commit. */
  private async store(media: MediaRecord, output: Output, signal: AbortSignal, reserveFirst: boolean): Promise<{ name: string; blobKey: string; size: number }> {
    const body = Buffer.isBuffer(output.body) ? Readable.from([output.body]) : createReadStream(output.body.file)
    const put = await this.options.blobs.put(body, {
      contentType: output.mimeType,
      signal,
      ...(reserveFirst ? { beforeCommit: (sha256: string) => this.reserve(media.id, [{ output, blobKey: blobKeyFor(sha256) }], signal) } : {}),
    })
    return { name: output.name, blobKey: put.key, size: put.size }
  }

  private reserveAll(mediaId: string, outputs: Output[], signal: AbortSignal): Promise<void> {
    const items = outputs.map((output) => ({ output, blobKey: blobKeyFor(createHash('sha256').update(output.body as Buffer).digest('hex')) }))
    return this.reserve(mediaId, items, signal)
  }

  /** Reserves every key, waiting (bounded) while a deletion of one is in progress. */
  private async reserve(mediaId: string, items: { output: Output; blobKey: string }[], signal: AbortSignal): Promise<void> {
    if (items.length === 0) return
    const deadline = Date.now() + (this.options.maxReserveWaitMs ?? 10_000)
    let pending = items
    for (let delay = 20; ; delay = Math.min(500, delay * 2)) {
      const answers = await this.options.catalog.reserveDerivatives(pending.map(({ output, blobKey }) => ({ mediaId, name: output.name, blobKey, mimeType: output.mimeType })))
      if (answers.includes('gone')) throw new MediagateError('conflict', `media ${mediaId} is no longer stored: its derivatives are not kept`)
      pending = pending.filter((_, i) => answers[i] !== 'reserved')
      if (pending.length === 0) return
      if (Date.now() + delay > deadline) throw new MediagateError('storage', `blobs ${pending.map((p) => p.blobKey).join(', ')} could not be reserved: a deletion of them did not end in time`, { retryable: true })
      await sleep(delay, undefined, { signal })
    }
  }

  private async record(media: MediaRecord, outcome: DerivedOutcome): Promise<DerivedOutcome> {
    const recorded = await this.options.catalog.recordDerived(media.id, outcome)
    if (!recorded && outcome.ready.length > 0) await this.options.discardBlobs(outcome.ready.map((r) => r.blobKey))
    return outcome
  }
}

/**
 * Images up to this size are decoded from memory. One derivation holds this much at most per
 * MEDIAGATE_DERIVE_CONCURRENCY; a photo from a phone is a few MiB.
 */
export const IN_MEMORY_IMAGE_BYTES = 16 * 1024 * 1024

/** The whole blob in one buffer: one positioned read where the store offers it, else its stream. */
async function readWhole(blobs: BlobStore, key: string, size: number, signal: AbortSignal): Promise<Buffer> {
  if (blobs.readBytes) return blobs.readBytes(key, 0, size)
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of (await blobs.read(key)) as AsyncIterable<Buffer>) {
    signal.throwIfAborted()
    length += chunk.length
    if (length > size) throw new MediagateError('storage', `blob ${key} holds more than the ${size} bytes its record says`)
    chunks.push(chunk)
  }
  if (length !== size) throw new MediagateError('storage', `blob ${key} ends after ${length} bytes, before the ${size} its record says`)
  return Buffer.concat(chunks, length)
}

/** Every promise's value in order, once all have settled; the first failure if any failed. */
async function settledInOrder<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<T>).value)
}

function thumbnailOutputs(image: ImageDerivation): Output[] {
  return image.thumbnails.map((t) => ({ name: `thumb${t.size}` as DerivativeName, mimeType: 'image/webp', body: t.data }))
}
