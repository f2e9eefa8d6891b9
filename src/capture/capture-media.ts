/**
 * One capture attempt of one media record: open the source (WhatsApp: resolve the id through
 * the Graph API; Messenger/Instagram: the CDN URL, without any token), stream the bytes into the
 * blob store while hashing, counting and sniffing, and return the `stored` settlement. Failures
 * are thrown as MediagateErrors; the worker turns them into retry or failed (retry-policy.ts).
 */
import { pipe } from '../util/pipe.js'
import type { BlobStore } from '../blobs/blob-store.js'
import type { Settlement } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import type { FetchResponse, Fetcher } from '../fetch/index.js'
import type { MediaRecord } from '../media/record.js'
import { type GraphMediaClient, normalizeSha256 } from '../platforms/graph/index.js'
import { chooseServedType, HeadTap, sniffMime } from './sniff.js'

export interface CaptureDeps {
  blobs: BlobStore
  /** Downloads without credentials (Messenger/Instagram CDN). */
  fetcher: Fetcher
  /** Absent when no WhatsApp access token is configured. */
  graph: GraphMediaClient | undefined
  maxBytes: number
  now?: () => Date
}

/** An open download: a 2xx response whose body the caller reads or destroys, and what to expect of it. */
export interface OpenedSource {
  response: FetchResponse
  /** Lowercase hex, when Meta declared one (WhatsApp); describes the whole media, not a range. */
  expectedSha256: string | undefined
  expectedSize: number | undefined
  declaredMime: string | null
}

export interface OpenSourceOptions {
  /** Ask for one inclusive byte range (proxy serving); the source may still answer 200 with everything. */
  range?: { start: number; end?: number }
  /** Try the webhook's own short-lived `url` before resolving the id; default: on the first attempt only. */
  tryWebhookUrl?: boolean
}

/**
 * Opens the media's source: WhatsApp by its id (through the Graph API), Messenger/Instagram by
 * the CDN URL. Used by the worker, and by serving under the lazy and proxy storage policies.
 */
export function openSource(media: MediaRecord, deps: CaptureDeps, signal: AbortSignal, options: OpenSourceOptions = {}): Promise<OpenedSource> {
  return media.platform === 'whatsapp' ? openWhatsApp(media, deps, signal, options) : openCdn(media, deps, signal, options)
}

export async function captureMedia(
  media: MediaRecord,
  deps: CaptureDeps,
  signal: AbortSignal,
  options: Pick<OpenSourceOptions, 'tryWebhookUrl'> = {},
): Promise<Extract<Settlement, { status: 'stored' }>> {
  const source = await openSource(media, deps, signal, options)
  const { response } = source
  if (response.contentLength !== undefined && response.contentLength > deps.maxBytes) {
    response.body.destroy()
    throw new MediagateError('too_large', `the source announces ${response.contentLength} bytes, over the limit of ${deps.maxBytes}`)
  }
  const tap = new HeadTap()
  // Not a bare .pipe(): a source that dies mid-body must fail the put, not end it short.
  pipe([response.body, tap], () => {})
  const piped = tap
  const put = await deps.blobs.put(piped, {
    maxBytes: deps.maxBytes,
    ...(source.expectedSha256 ? { expectedSha256: source.expectedSha256 } : {}),
    ...(source.expectedSize !== undefined ? { expectedSize: source.expectedSize } : {}),
    ...(source.declaredMime ? { contentType: source.declaredMime } : {}),
    signal,
  })
  const sniffed = await sniffMime(tap.head())
  return {
    status: 'stored',
    sha256: put.sha256,
    size: put.size,
    blobKey: put.key,
    sniffedMime: sniffed,
    mimeType: chooseServedType(source.declaredMime, sniffed),
    storedAt: deps.now?.() ?? new Date(),
  }
}

async function openWhatsApp(media: MediaRecord, deps: CaptureDeps, signal: AbortSignal, options: OpenSourceOptions): Promise<OpenedSource> {
  const now = deps.now?.() ?? new Date()
  if (media.sourceExpiresAt && media.sourceExpiresAt <= now) {
    // Asking Meta would only add a failed lookup to the per-number throttle.
    throw new MediagateError('source_expired', `WhatsApp media id expired at ${media.sourceExpiresAt.toISOString()} (ids from webhooks live 7 days)`)
  }
  const graph = deps.graph
  if (!graph) throw new MediagateError('auth', 'WHATSAPP_ACCESS_TOKEN is not configured; set it and retry the media')
  if (!media.sourceMediaId) throw new MediagateError('source_rejected', 'the WhatsApp media record has no media id')
  const fromWebhook = {
    expectedSha256: normalizeSha256(media.declaredSha256 ?? '') ?? undefined,
    expectedSize: media.declaredSize ?? undefined,
    declaredMime: media.declaredMime,
  }
  // The webhook's `url` saves a lookup, but it lives minutes: only on the first attempt, and any
  // refusal falls back to resolving the id.
  const download = { signal, maxBytes: deps.maxBytes, ...(options.range ? { range: options.range } : {}) }
  if (media.sourceUrl && (options.tryWebhookUrl ?? media.attempts <= 1)) {
    try {
      return { response: await graph.download(media.sourceUrl, download), ...fromWebhook }
    } catch (err) {
      if (!(err instanceof MediagateError) || !['source_expired', 'auth', 'source_rejected', 'host_not_allowed'].includes(err.code)) throw err
    }
  }
  for (let resolveAttempt = 1; ; resolveAttempt++) {
    const info = await graph.lookup(media.sourceMediaId, { signal })
    const opened = {
      expectedSha256: normalizeSha256(info.sha256 ?? '') ?? fromWebhook.expectedSha256,
      expectedSize: info.fileSize ?? fromWebhook.expectedSize,
      declaredMime: info.mimeType || fromWebhook.declaredMime,
    }
    try {
      return { response: await graph.download(info.url, download), ...opened }
    } catch (err) {
      // Meta: "a failed download returns 404 … try to get a new media URL and download it again".
      if (resolveAttempt >= 2 || !(err instanceof MediagateError) || err.code !== 'source_expired') throw err
    }
  }
}

async function openCdn(media: MediaRecord, deps: CaptureDeps, signal: AbortSignal, options: OpenSourceOptions): Promise<OpenedSource> {
  if (!media.sourceUrl) throw new MediagateError('source_rejected', 'the attachment has no URL')
  const response = await deps.fetcher.get({ url: media.sourceUrl, signal, ...(options.range ? { range: options.range } : {}) })
  if (response.status >= 200 && response.status < 300) {
    return { response, expectedSha256: undefined, expectedSize: undefined, declaredMime: media.declaredMime ?? headerValue(response.headers['content-type']) }
  }
  response.body.destroy()
  throw cdnError(response.status, response.headers['retry-after'])
}

function cdnError(status: number, retryAfter: string | string[] | undefined): MediagateError {
  if (status === 403 || status === 404 || status === 410) {
    // fbcdn answers 403 "URL signature expired"; there is no id to come back with.
    return new MediagateError('source_expired', `the CDN refused the URL (HTTP ${status}); Messenger/Instagram URLs expire`, { vendorCode: status })
  }
  if (status === 429) {
    const seconds = Number(headerValue(retryAfter))
    return new MediagateError('rate_limited', 'the CDN answered 429', { vendorCode: status, ...(Number.isFinite(seconds) ? { retryAfterMs: seconds * 1000 } : {}) })
  }
  if (status >= 500) return new MediagateError('upstream', `the CDN answered HTTP ${status}`, { vendorCode: status })
  return new MediagateError('source_rejected', `the CDN answered HTTP ${status}`, { vendorCode: status })
}

function headerValue(v: string | string[] | undefined): string | null {
  return (Array.isArray(v) ? v[0] : v) ?? null
}
