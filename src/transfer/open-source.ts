/**
 * Opens a media's source, the first step of every transfer: WhatsApp by its media id (resolved
 * through the Graph API with the account's own token; the webhook's short-lived `url` first when
 * it may still be good), Messenger/Instagram by the CDN URL, without any token. Resolves with a
 * 2xx response whose body the caller reads or destroys, and what Meta declared about the bytes;
 * without a requested range, only with an answer that is the whole media (see `wholeAnswer`).
 */
import { MediagateError } from '../errors.js'
import { downloadError, type FetchResponse, type Fetcher, redactUrl } from '../fetch/index.js'
import type { MediaRecord } from '../media/record.js'
import { type GraphClients, normalizeSha256 } from '../platforms/graph/index.js'
import { withDeadline } from './deadline.js'
import { refetchUrl } from './refetch.js'
import type { WhatsAppUrlCache } from './whatsapp-urls.js'
import { inDownloadSpan, inSpan } from '../tracing/index.js'

export interface SourceDeps {
  /** Downloads without credentials (Messenger/Instagram CDN). */
  fetcher: Fetcher
  /** Graph clients by account; the account's token is chosen there. */
  graph: GraphClients
  /** MEDIAGATE_MAX_BYTES: no transfer reads more than this. */
  maxBytes: number
  /** MEDIAGATE_DOWNLOAD_DEADLINE_MS: the most one transfer may take, lookup and body included (deadline.ts). */
  deadlineMs?: number
  /** WhatsApp URLs resolved earlier, for callers that ask to reuse them (`reuseUrl`). */
  whatsappUrls?: WhatsAppUrlCache
  now?: () => Date
}

/** What a transfer needs to know of a media to find its bytes (a record, or a bare WhatsApp id). */
export type MediaSource = Pick<
  MediaRecord,
  'platform' | 'accountId' | 'sourceMediaId' | 'sourceUrl' | 'sourceExpiresAt' | 'declaredSha256' | 'declaredSize' | 'declaredMime' | 'attempts' | 'receivedAt'
> &
  Partial<Pick<MediaRecord, 'messageId' | 'attachmentIndex'>>

/** An open download and what to expect of it. */
export interface OpenedSource {
  response: FetchResponse
  /** Lowercase hex, when Meta declared one (WhatsApp); describes the whole media, not a range. */
  expectedSha256: string | undefined
  expectedSize: number | undefined
  declaredMime: string | null
  /** The CDN URL had expired and Graph's Message node gave a fresh one (refetch.ts). */
  refetched?: boolean
}

export interface OpenSourceOptions {
  /** Ask for one inclusive byte range (proxy serving); the source may still answer 200 with everything. */
  range?: { start: number; end?: number }
  /** Try the webhook's own short-lived `url` before resolving the id; default: on the first attempt only. */
  tryWebhookUrl?: boolean
  /**
   * Reuse a WhatsApp URL (and what Meta declared) resolved for this media a moment ago, sharing
   * concurrent lookups (proxy serving). Captures resolve afresh: a retry is there to ask Meta again.
   */
  reuseUrl?: boolean
}

/** The webhook's own `url` lives minutes: worth trying only on a record that fresh. */
const WEBHOOK_URL_FRESH_MS = 4 * 60 * 1000

export function webhookUrlFresh(media: Pick<MediaSource, 'sourceUrl' | 'receivedAt'>, now: number = Date.now()): boolean {
  return media.sourceUrl !== null && now - media.receivedAt.getTime() < WEBHOOK_URL_FRESH_MS
}

export function openSource(media: MediaSource, deps: SourceDeps, signal: AbortSignal, options: OpenSourceOptions = {}): Promise<OpenedSource> {
  return withDeadline(signal, deps.deadlineMs, (bounded) => (media.platform === 'whatsapp' ? openWhatsApp(media, deps, bounded, options) : openCdn(media, deps, bounded, options)))
}

async function openWhatsApp(media: MediaSource, deps: SourceDeps, signal: AbortSignal, options: OpenSourceOptions): Promise<OpenedSource> {
  const now = deps.now?.() ?? new Date()
  if (media.sourceExpiresAt && media.sourceExpiresAt <= now) {
    // Asking Meta would only add a failed lookup to the per-number throttle.
    throw new MediagateError('source_expired', `WhatsApp media id expired at ${media.sourceExpiresAt.toISOString()} (ids from webhooks live 7 days)`)
  }
  const graph = deps.graph.forWhatsApp(media.accountId)
  if (!graph) throw new MediagateError('auth', `no access token for WhatsApp number ${media.accountId}: set WHATSAPP_ACCESS_TOKEN (or the number's token in mediagate.config.json) and retry the media`)
  if (!media.sourceMediaId) throw new MediagateError('source_rejected', 'the WhatsApp media record has no media id')
  const fromWebhook = {
    expectedSha256: normalizeSha256(media.declaredSha256 ?? '') ?? undefined,
    expectedSize: media.declaredSize ?? undefined,
    declaredMime: media.declaredMime,
  }
  // The webhook's `url` saves a lookup, but it lives minutes: only on the first attempt, and any
  // refusal falls back to resolving the id.
  const download = { signal, maxBytes: deps.maxBytes, ...(options.range ? { range: options.range } : {}) }
  const webhookUrl = media.sourceUrl
  if (webhookUrl && (options.tryWebhookUrl ?? media.attempts <= 1)) {
    try {
      return { response: wholeAnswer(await inDownloadSpan('download', () => graph.download(webhookUrl, download)), options), ...fromWebhook }
    } catch (err) {
      if (!(err instanceof MediagateError) || !['source_expired', 'auth', 'source_rejected', 'host_not_allowed'].includes(err.code)) throw err
    }
  }
  const mediaId = media.sourceMediaId
  const cache = options.reuseUrl ? deps.whatsappUrls : undefined
  for (let resolveAttempt = 1; ; resolveAttempt++) {
    const lookup = (s: AbortSignal) => inSpan('graph.lookup', () => graph.lookup(mediaId, { signal: s }))
    const resolved = cache ? await cache.resolve(media.accountId, mediaId, lookup, signal) : { info: await lookup(signal), forget: () => {} }
    const { info } = resolved
    const opened = {
      expectedSha256: normalizeSha256(info.sha256 ?? '') ?? fromWebhook.expectedSha256,
      expectedSize: info.fileSize ?? fromWebhook.expectedSize,
      declaredMime: info.mimeType || fromWebhook.declaredMime,
    }
    try {
      return { response: wholeAnswer(await inDownloadSpan('download', () => graph.download(info.url, download)), options), ...opened }
    } catch (err) {
      // Meta: "a failed download returns 404 … try to get a new media URL and download it again".
      if (!(err instanceof MediagateError) || err.code !== 'source_expired') throw err
      resolved.forget()
      if (resolveAttempt >= 2) throw err
    }
  }
}

async function openCdn(media: MediaSource, deps: SourceDeps, signal: AbortSignal, options: OpenSourceOptions): Promise<OpenedSource> {
  if (!media.sourceUrl) throw new MediagateError('source_rejected', 'the attachment has no URL')
  try {
    return await downloadCdn(media.sourceUrl, media, deps, signal, options)
  } catch (err) {
    if (!(err instanceof MediagateError) || err.code !== 'source_expired') throw err
    const fresh = await refetchUrl(media, deps.graph, err, signal)
    return { ...(await downloadCdn(fresh, media, deps, signal, options)), refetched: true }
  }
}

/** A CDN download without any token: Messenger and Instagram CDNs need none, and must never see the page's. */
async function downloadCdn(url: string, media: MediaSource, deps: SourceDeps, signal: AbortSignal, options: OpenSourceOptions): Promise<OpenedSource> {
  const response = await inDownloadSpan('download', () => deps.fetcher.get({ url, signal, ...(options.range ? { range: options.range } : {}) }))
  if (response.status >= 200 && response.status < 300) {
    return { response: wholeAnswer(response, options), expectedSha256: undefined, expectedSize: undefined, declaredMime: media.declaredMime ?? headerValue(response.headers['content-type']) }
  }
  response.body.destroy()
  throw downloadError(response.status, response.headers['retry-after'], { where: redactUrl(response.url), renewable: false })
}

/**
 * A request for the whole media must get the whole media: a 200, or a 206 whose Content-Range
 * covers the entity (`bytes 0-(n-1)/n`, passed on as the 200 it amounts to). Anything else — a
 * 206 of a part (Instagram's CDN was seen answering a plain GET so), a 204, a 203 — would be
 * stored or served as if whole, and Messenger/Instagram declare no size or hash to catch it.
 * Refused as `upstream` (retryable: the next answer is usually whole). With a requested range
 * the caller judges the answer itself.
 */
function wholeAnswer(response: FetchResponse, options: OpenSourceOptions): FetchResponse {
  if (options.range || response.status === 200) return response
  const contentRange = headerValue(response.headers['content-range'])
  if (response.status === 206) {
    const match = /^bytes 0-(\d{1,15})\/(\d{1,15})$/.exec(contentRange?.trim() ?? '')
    const size = match ? Number(match[2]) : undefined
    if (match && Number(match[1]) + 1 === size && (response.contentLength === undefined || response.contentLength === size)) {
      return { ...response, status: 200 }
    }
  }
  response.body.destroy()
  const what = response.status === 206 ? `206 Partial Content (${contentRange ? `Content-Range: ${contentRange}` : 'no Content-Range'})` : `HTTP ${response.status}`
  throw new MediagateError('upstream', `${redactUrl(response.url)} answered a request for the whole media with ${what}; a partial body is never taken for the media`, {
    vendorCode: response.status,
  })
}

function headerValue(v: string | string[] | undefined): string | null {
  return (Array.isArray(v) ? v[0] : v) ?? null
}
