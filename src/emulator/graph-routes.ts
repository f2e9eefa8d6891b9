/**
 * The Graph API surface mediagate uses: `GET /{ver}/{media-id}` (WhatsApp media lookup),
 * `DELETE /{ver}/{media-id}`, `GET /{ver}/me` (token check) and Graph's Message node for
 * Messenger/Instagram messages the emulator sent, `GET /{ver}/{message-id}?fields=attachments`
 * and its `/attachments` edge (re-fetching expired CDN URLs). Any `/vNN.N/` prefix works.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EmulatorContext } from './context.js'
import { type GraphErrorResponse, graphError, graphErrorForStatus, unsupportedGetRequest } from './graph-errors.js'
import { acceptedToken, bearerToken, sendJson, waitUnlessClosed } from './http-util.js'
import type { StoredMedia } from './media-store.js'
import type { EmulatedMessage } from './message-store.js'
import { cdnFamilyFor } from './url-signer.js'
import { uploadRoute } from './upload-routes.js'

/** `/v26.0/123` → `['123']`; undefined when the path has no version prefix. */
export function graphSegments(pathname: string): string[] | undefined {
  const match = /^\/v\d+\.\d+((?:\/[^/]*)*)$/.exec(pathname)
  if (!match) return undefined
  try {
    return match[1]!.split('/').filter((s) => s !== '').map(decodeURIComponent)
  } catch {
    return [match[1]!]
  }
}

function sendGraphError(res: ServerResponse, e: GraphErrorResponse, retryAfterSeconds?: number): void {
  sendJson(res, e.status, e.body, {
    'www-authenticate': e.status === 401 ? 'OAuth "Facebook Platform" "invalid_token"' : undefined,
    'retry-after': retryAfterSeconds === undefined ? undefined : String(retryAfterSeconds),
  })
}

/** Graph accepts the token as a Bearer header or an `access_token` query parameter; returns its label. */
function authorize(ctx: EmulatorContext, req: IncomingMessage, url: URL, res: ServerResponse): string | undefined {
  const token = bearerToken(req) ?? url.searchParams.get('access_token') ?? undefined
  if (token === undefined) {
    sendGraphError(res, graphError(190, { message: 'An active access token must be used to query information about the current user.' }))
    return undefined
  }
  const label = acceptedToken(token, ctx.settings.tokenLabels)
  if (label === undefined) sendGraphError(res, graphError(190, { message: 'Invalid OAuth access token - Cannot parse access token' }))
  return label
}

export async function graphRoute(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, url: URL, segments: string[]): Promise<void> {
  const tokenLabel = authorize(ctx, req, url, res)
  if (tokenLabel === undefined) return
  const [id, ...rest] = segments
  const message = id !== undefined ? ctx.messages.get(id) : undefined
  if (message && req.method === 'GET' && (rest.length === 0 || (rest.length === 1 && rest[0] === 'attachments'))) {
    return messageNode(ctx, res, url, message, tokenLabel, rest.length === 1)
  }
  if (id !== undefined && req.method === 'POST' && rest.length === 1 && (rest[0] === 'media' || rest[0] === 'message_attachments')) {
    return uploadRoute(ctx, req, res, url, id, rest[0])
  }
  if (id === undefined || rest.length > 0) {
    return sendGraphError(res, graphError(2500, { message: `Unknown path components: /${segments.join('/')}` }))
  }
  if (id === 'me' && req.method === 'GET') return sendJson(res, 200, { id: appIdFor(ctx.settings.accessToken), name: 'Emulated app' })
  if (req.method === 'GET') return lookup(ctx, res, url, id, tokenLabel)
  if (req.method === 'DELETE') {
    const media = usableMedia(ctx, id, url)
    if (!media) return sendGraphError(res, unsupportedGetRequest(id))
    ctx.store.delete(id)
    return sendJson(res, 200, { success: true })
  }
  sendGraphError(res, graphError(100, { message: `Unsupported ${req.method?.toLowerCase() ?? ''} request.` }))
}

/** A stable, numeric app id per token, so `doctor` output is reproducible within a run. */
function appIdFor(token: string): string {
  return `10${BigInt(`0x${createHash('sha256').update(token).digest('hex').slice(0, 12)}`).toString().padStart(14, '0').slice(0, 14)}`
}

/** The media a lookup may see: WhatsApp, not deleted, id not expired, phone number matching. */
function usableMedia(ctx: EmulatorContext, id: string, url: URL): StoredMedia | undefined {
  const media = ctx.store.get(id)
  if (!media || media.platform !== 'whatsapp' || media.deleted) return undefined
  if (ctx.settings.now() - media.createdAt >= (media.idTtlMs ?? ctx.settings.mediaIdTtlMs)) return undefined
  const phone = url.searchParams.get('phone_number_id')
  if (phone && media.phoneNumberId && phone !== media.phoneNumberId) return undefined
  return media
}

async function lookup(ctx: EmulatorContext, res: ServerResponse, url: URL, id: string, tokenLabel: string): Promise<void> {
  ctx.stats.lookup(id, tokenLabel)
  const fault = ctx.faults.decide(id, 'lookup')
  if (fault?.delayMs) await waitUnlessClosed(res, fault.delayMs)
  if (fault?.graphErrorCode !== undefined) {
    return sendGraphError(res, graphError(fault.graphErrorCode, { status: fault.lookupStatus }), fault.retryAfterSeconds)
  }
  if (fault?.lookupStatus !== undefined) return sendGraphError(res, graphErrorForStatus(fault.lookupStatus), fault.retryAfterSeconds)

  const media = usableMedia(ctx, id, url)
  if (!media) return sendGraphError(res, unsupportedGetRequest(id))
  const size = media.size + (fault?.wrongSize ? 1 : 0)
  let sha256 = media.sha256
  if (fault?.wrongHash) {
    const wrong = createHash('sha256').update(`not ${media.sha256Hex}`).digest()
    sha256 = wrong.toString(media.sha256Encoding)
  }
  sendJson(res, 200, {
    messaging_product: 'whatsapp',
    url: ctx.signer.whatsapp(media.id, ctx.settings.now() + ctx.settings.urlTtlMs),
    mime_type: media.mimeType,
    sha256,
    file_size: media.fileSizeType === 'string' ? String(size) : size,
    id: media.id,
  })
}

/**
 * Graph's Message node with its `attachments` edge [M15][N10]: each attachment with `id`,
 * `mime_type`, `name`, `size` and, by type, `image_data{url, preview_url, width, height}`,
 * `video_data{url, preview_url, width, height, length}` or `file_url`, each URL freshly signed.
 * An Instagram message older than the 20 most recent of its conversation answers as deleted [M16].
 */
function messageNode(ctx: EmulatorContext, res: ServerResponse, url: URL, message: EmulatedMessage, tokenLabel: string, edge: boolean): void {
  if (!ctx.messages.queryable(message)) {
    return sendGraphError(res, graphError(100, { message: `(#100) The message ${message.mid} has been deleted or is no longer available (Instagram: only the 20 most recent messages of a conversation)` }))
  }
  const data = message.attachments.map((mediaId, index) => {
    const media = mediaId !== null ? ctx.store.get(mediaId) : undefined
    if (!media || media.deleted || media.platform === 'whatsapp') return { id: `att_${index}` }
    ctx.stats.tokenUsed(media.id, tokenLabel)
    const fresh = freshCdnUrl(ctx, media)
    const item: Record<string, unknown> = { id: `att_${media.id}`, mime_type: media.mimeType, name: media.filename ?? `${media.id}`, size: media.size }
    if (media.mimeType.startsWith('image/')) item.image_data = { url: fresh, preview_url: fresh, width: 640, height: 480, max_width: 640, max_height: 480, render_as_sticker: false }
    else if (media.mimeType.startsWith('video/')) item.video_data = { url: fresh, preview_url: fresh, width: 640, height: 360, length: 1, rotation: 0 }
    else item.file_url = fresh
    return item
  })
  const fields = url.searchParams.get('fields') ?? ''
  if (edge) return sendJson(res, 200, { data })
  sendJson(res, 200, { id: message.mid, ...(fields.split(',').includes('attachments') ? { attachments: { data } } : {}) })
}

function freshCdnUrl(ctx: EmulatorContext, media: StoredMedia): string {
  const expiresAt = ctx.settings.now() + ctx.settings.cdnTtlMs
  if (media.platform === 'instagram') {
    ctx.store.setExpiry(media, expiresAt)
    return ctx.signer.instagram(media.id)
  }
  const family = cdnFamilyFor('messenger', media.mimeType)
  return ctx.signer.messenger(media.id, family as Exclude<typeof family, 'instagram'>, media.mimeType, expiresAt, media.filename)
}
