/**
 * The outbound operation as one call, for `mediagate upload` and the library: store a file as
 * outbound media (as `POST /v1/media` does) and, when an account is given, get its Meta handle
 * (as `POST /v1/media/{id}/handles` does), over parts opened from a configuration.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import type { Config } from '../config/options.js'
import type { MediaRecord } from '../media/record.js'
import { openParts, type Parts } from '../parts.js'
import { type HandleAnswer, type HandleRequest, HandleService } from './handles.js'
import { storeOutbound } from './store-outbound.js'

export interface UploadOptions {
  /** The file's type; default: sniffed from its bytes. */
  mimeType?: string
  /** Get a handle for this account too. */
  handle?: HandleRequest
  signal?: AbortSignal
}

export interface UploadResult {
  media: MediaRecord
  handle?: HandleAnswer
}

/** Stores `file` with `parts` (catalog and blobs open) and, if asked, gets its handle at Meta. */
export async function uploadWithParts(parts: Parts, file: string, options: UploadOptions = {}): Promise<UploadResult> {
  const signal = options.signal ?? new AbortController().signal
  const { size } = await stat(file)
  const media = await storeOutbound(
    { body: createReadStream(file), declaredMime: options.mimeType ?? null, length: size, filename: path.basename(file) },
    {
      catalog: parts.catalog,
      blobs: parts.blobs,
      leaser: parts.leaser,
      maxBytes: parts.config.maxBytes,
      discardBlobs: (keys) => parts.eraser.discard(keys),
      enqueue: parts.storedTasks,
      ...(parts.scanner ? { scan: { scanner: parts.scanner, blobs: parts.blobs, catalog: parts.catalog, retry: { baseDelayMs: 1000, maxDelayMs: 60_000 } } } : {}),
    },
    signal,
  )
  if (!options.handle) return { media }
  const handles = new HandleService({ catalog: parts.catalog, blobs: parts.blobs, graph: parts.graph, marginMs: parts.config.handleMarginHours * 3600_000, ffmpeg: parts.ffmpeg, maxPixels: parts.config.maxPixels })
  return { media, handle: await handles.handleFor(media, options.handle, signal) }
}

/**
 * Library: the same with parts opened from `config` (the catalog and blob store a running
 * gateway uses may be shared: its puts in progress are left alone) and closed at the end.
 */
export async function uploadMedia(config: Readonly<Config>, file: string, options: UploadOptions = {}): Promise<UploadResult> {
  const parts = await openParts(config, { catalog: 'write', blobs: 'shared' })
  try {
    await parts.prepare()
    return await uploadWithParts(parts, file, options)
  } finally {
    await parts.close()
  }
}
