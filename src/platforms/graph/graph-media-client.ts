/**
 * The WhatsApp Cloud API media client: resolve a media id to a short-lived URL, download it with
 * the access token, delete media, and check the token. Built on the guarded Fetcher, so the real
 * Graph API and the emulator differ only by `graphUrl`.
 */
import { MediagateError } from '../../errors.js'
import { assertWithinLimit, discard, downloadError, readBody, redactUrl, type FetchMethod, type FetchResponse, type Fetcher } from '../../fetch/index.js'
import { graphError, parseGraphEnvelope } from './graph-errors.js'
import { parseMediaInfo, type MediaInfo } from './media-info.js'
import { type MultipartBody, multipartBody, type MultipartFile } from './multipart.js'

/** Bytes to upload to Meta. */
export type UploadFile = Omit<MultipartFile, 'field'>

export interface GraphMediaClientOptions {
  /** Graph base URL, e.g. `https://graph.facebook.com` (or the emulator's URL). */
  graphUrl: string
  /** e.g. `v26.0`. */
  version: string
  accessToken: string
  fetcher: Fetcher
}

/**
 * Hosts that may receive the access token, besides the Graph host itself. Meta documents only
 * lookaside.fbsbx.com for media; the other suffixes are where its CDN lives. The Fetcher still
 * sends it only over https, or to an explicitly listed host (the emulator).
 */
const META_MEDIA_TOKEN_HOSTS = ['fbsbx.com', 'fbcdn.net', 'whatsapp.net'] as const
const MAX_JSON_BYTES = 1024 * 1024
const MAX_ERROR_BYTES = 64 * 1024
const MEDIA_ID = /^[A-Za-z0-9_.-]{1,200}$/
/** Messenger mids (`m_…`) and Instagram mids are base64 of some kind. */
const MESSAGE_ID = /^[A-Za-z0-9_.:=+/-]{1,1024}$/

export class GraphMediaClient {
  private readonly base: URL
  private readonly version: string
  private readonly accessToken: string
  private readonly fetcher: Fetcher
  private readonly tokenHosts: readonly string[]

  constructor(o: GraphMediaClientOptions) {
    try {
      this.base = new URL(o.graphUrl)
    } catch (err) {
      throw new MediagateError('invalid_config', `META_GRAPH_URL is not a URL: ${redactUrl(o.graphUrl)}`, { cause: err })
    }
    if (!/^v\d+\.\d+$/.test(o.version)) throw new MediagateError('invalid_config', `Graph API version "${o.version}" is not like v26.0`)
    if (!o.accessToken) throw new MediagateError('invalid_config', 'the WhatsApp access token is empty')
    this.version = o.version
    this.accessToken = o.accessToken
    this.fetcher = o.fetcher
    this.tokenHosts = [this.base.hostname, ...META_MEDIA_TOKEN_HOSTS]
  }

  /** `GET /{version}/{media-id}`: the download URL and what Meta declares about the media. */
  async lookup(mediaId: string, o: { phoneNumberId?: string; signal?: AbortSignal } = {}): Promise<MediaInfo> {
    const what = `lookup of media ${safeId(mediaId)}`
    const query: Record<string, string> = o.phoneNumberId ? { phone_number_id: o.phoneNumberId } : {}
    const json = await this.call('GET', checkedId(mediaId), query, what, o.signal)
    return parseMediaInfo(json, mediaId, what)
  }

  /**
   * Downloads a media URL with the token and User-Agent. Resolves only for 2xx; the caller
   * reads (or destroys) the body. A refused URL is `source_expired` with `retryable: true`:
   * look the id up again for a fresh URL.
   */
  async download(url: string, o: { signal?: AbortSignal; maxBytes?: number; range?: { start: number; end?: number } } = {}): Promise<FetchResponse> {
    const res = await this.fetcher.get({
      url,
      bearerToken: this.accessToken,
      tokenHosts: this.tokenHosts,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.range ? { range: o.range } : {}),
    })
    if (res.status < 200 || res.status > 299) {
      discard(res)
      throw downloadError(res.status, res.headers['retry-after'], { where: redactUrl(res.url), renewable: true })
    }
    if (o.maxBytes !== undefined) assertWithinLimit(res, o.maxBytes)
    return res
  }

  /**
   * `GET /{version}/{message-id}?fields=attachments` (Graph's Message node, with a page token):
   * the download URL of each attachment of a Messenger or Instagram message, in order, from
   * `image_data.url`, `video_data.url` or `file_url`; null where an attachment has none.
   * Instagram answers only for the 20 most recent messages of a conversation [M16].
   */
  async messageAttachments(messageId: string, o: { signal?: AbortSignal } = {}): Promise<(string | null)[]> {
    if (!MESSAGE_ID.test(messageId)) throw new MediagateError('source_rejected', `"${safeId(messageId)}" is not a Graph message id`)
    const what = `lookup of message ${safeId(messageId)}`
    const json = (await this.call('GET', messageId, { fields: 'attachments' }, what, o.signal)) as { attachments?: { data?: unknown } } | null
    const data = json?.attachments?.data
    if (!Array.isArray(data)) throw new MediagateError('upstream', `${what}: Graph answered without an attachments list`)
    return data.map(attachmentUrl)
  }

  /** `DELETE /{version}/{media-id}`. */
  async deleteMedia(mediaId: string, o: { phoneNumberId?: string; signal?: AbortSignal } = {}): Promise<void> {
    const what = `delete of media ${safeId(mediaId)}`
    const query: Record<string, string> = o.phoneNumberId ? { phone_number_id: o.phoneNumberId } : {}
    const json = (await this.call('DELETE', checkedId(mediaId), query, what, o.signal)) as { success?: unknown; deleted?: unknown } | null
    if (json?.success === false || json?.deleted === false) throw new MediagateError('upstream', `${what}: Graph answered success: false`)
  }

  /**
   * `POST /{version}/{phone_number_id}/media` (multipart: messaging_product, type, file): uploads
   * bytes for sending; resolves with the media id Meta gave them.
   */
  async uploadWhatsApp(phoneNumberId: string, file: UploadFile, o: { signal?: AbortSignal } = {}): Promise<string> {
    const body = multipartBody({ messaging_product: 'whatsapp', type: file.mimeType }, { ...file, field: 'file' })
    const json = (await this.call('POST', `${checkedId(phoneNumberId)}/media`, {}, `upload to WhatsApp number ${safeId(phoneNumberId)}`, o.signal, body)) as { id?: unknown } | null
    const id = json?.id
    if (typeof id !== 'string' && typeof id !== 'number') throw new MediagateError('upstream', 'WhatsApp upload: Graph answered without an id')
    return String(id)
  }

  /**
   * `POST /{version}/{page_id}/message_attachments` (multipart: message with a reusable attachment
   * of `type`, filedata; `platform=instagram` for Instagram): resolves with the attachment_id.
   */
  async uploadAttachment(pageId: string, file: UploadFile & { type: string; platform: 'messenger' | 'instagram' }, o: { signal?: AbortSignal } = {}): Promise<string> {
    const fields: Record<string, string> = { message: JSON.stringify({ attachment: { type: file.type, payload: { is_reusable: true } } }) }
    if (file.platform === 'instagram') fields.platform = 'instagram'
    const body = multipartBody(fields, { ...file, field: 'filedata' })
    const json = (await this.call('POST', `${checkedId(pageId)}/message_attachments`, {}, `attachment upload to ${file.platform} account ${safeId(pageId)}`, o.signal, body)) as { attachment_id?: unknown } | null
    const id = json?.attachment_id
    if (typeof id !== 'string' && typeof id !== 'number') throw new MediagateError('upstream', 'attachment upload: Graph answered without an attachment_id')
    return String(id)
  }

  /** `GET /{version}/me`: proves the token works (`mediagate doctor`). */
  async me(o: { signal?: AbortSignal } = {}): Promise<{ id: string; name?: string }> {
    const json = (await this.call('GET', 'me', { fields: 'id,name' }, 'token check (GET /me)', o.signal)) as Record<string, unknown> | null
    const id = json?.id
    if (typeof id !== 'string' && typeof id !== 'number') throw new MediagateError('upstream', 'token check (GET /me): Graph answered without an id')
    return { id: String(id), ...(typeof json?.name === 'string' ? { name: json.name } : {}) }
  }

  private async call(method: FetchMethod, node: string, query: Record<string, string>, what: string, signal: AbortSignal | undefined, upload?: MultipartBody): Promise<unknown> {
    const path = node.split('/').map(encodeURIComponent).join('/')
    const url = new URL(`${this.base.pathname.replace(/\/+$/, '')}/${this.version}/${path}`, this.base)
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
    const res = await this.fetcher.get({
      url: url.href,
      method,
      bearerToken: this.accessToken,
      tokenHosts: this.tokenHosts,
      headers: { accept: 'application/json', ...(upload ? { 'content-type': upload.contentType, 'content-length': String(upload.length) } : {}) },
      ...(signal ? { signal } : {}),
      ...(upload ? { body: upload.body } : {}),
    })
    if (res.status < 200 || res.status > 299) {
      const body = await readBody(res, MAX_ERROR_BYTES).catch(() => Buffer.alloc(0))
      throw graphError({ status: res.status, envelope: parseGraphEnvelope(body), retryAfter: res.headers['retry-after'], what, accessToken: this.accessToken })
    }
    const body = await readBody(res, MAX_JSON_BYTES)
    try {
      return JSON.parse(body.toString('utf8')) as unknown
    } catch (err) {
      throw new MediagateError('upstream', `${what}: Graph answered HTTP ${res.status} with a body that is not JSON`, { cause: err })
    }
  }
}

function checkedId(mediaId: string): string {
  if (!MEDIA_ID.test(mediaId) || mediaId === '.' || mediaId === '..') {
    throw new MediagateError('source_rejected', `"${safeId(mediaId)}" is not a Graph media id`)
  }
  return mediaId
}

/** Ids end up in messages; keep them short and printable. */
function safeId(mediaId: string): string {
  return mediaId.replace(/[^\x20-\x7e]/g, '?').slice(0, 64)
}

/** Where an attachment of the Message node can be downloaded [M15][N10]. */
function attachmentUrl(item: unknown): string | null {
  if (typeof item !== 'object' || item === null) return null
  const a = item as { image_data?: { url?: unknown }; video_data?: { url?: unknown }; file_url?: unknown }
  for (const url of [a.image_data?.url, a.video_data?.url, a.file_url]) if (typeof url === 'string' && /^https?:\/\//.test(url)) return url
  return null
}
