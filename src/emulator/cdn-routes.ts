/**
 * Downloads: the WhatsApp lookaside URL (Bearer token required, 404 once expired, as Meta
 * documents), fbcdn-style Messenger URLs and the Instagram lookaside (no auth; a bad or expired
 * signature is 403 `URL signature expired`, as fbcdn answers). All support Range and HEAD.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { sendMedia } from './body-sender.js'
import type { EmulatorContext } from './context.js'
import { graphError } from './graph-errors.js'
import { acceptedToken, bearerToken, sendJson, sendText, waitUnlessClosed } from './http-util.js'
import type { StoredMedia } from './media-store.js'
import type { VerifiedUrl } from './url-signer.js'

export type CdnKind = 'whatsapp' | 'messenger' | 'instagram'

export function cdnKindOf(pathname: string): CdnKind | undefined {
  if (pathname === '/whatsapp_business/attachments/') return 'whatsapp'
  if (pathname === '/ig_messaging_cdn/') return 'instagram'
  if (/^\/v\/t[\d.-]+\//.test(pathname)) return 'messenger'
  return undefined
}

const SIGNATURE_EXPIRED = 'URL signature expired'

export async function cdnRoute(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, url: URL, kind: CdnKind): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' })
  const now = ctx.settings.now()
  // What a URL that does not (or no longer) work gets: WhatsApp 404, fbcdn 403.
  const refuse = () => (kind === 'whatsapp' ? sendText(res, 404, 'Not Found') : sendText(res, 403, SIGNATURE_EXPIRED))

  let verified: VerifiedUrl | undefined
  let tokenLabel: string | undefined
  if (kind === 'whatsapp') {
    tokenLabel = acceptedToken(bearerToken(req), ctx.settings.tokenLabels)
    if (tokenLabel === undefined) {
      const e = graphError(190, { message: 'Invalid OAuth access token - Cannot parse access token' })
      return sendJson(res, 401, e.body)
    }
    verified = ctx.signer.verifyWhatsApp(url.searchParams)
  } else if (kind === 'messenger') {
    verified = ctx.signer.verifyMessenger(url.pathname, url.searchParams)
  } else {
    verified = ctx.signer.verifyInstagram(url.searchParams)
  }
  if (!verified) return refuse()
  const media = ctx.store.get(verified.mediaId)
  const expiresAt = verified.expiresAt ?? media?.expiresAt
  if (expiresAt !== undefined && now >= expiresAt) return refuse()
  if (!media || media.deleted || media.platform !== kind) return sendText(res, 404, 'Not Found')
  if (tokenLabel !== undefined) ctx.stats.tokenUsed(media.id, tokenLabel)

  const fault = req.method === 'GET' ? ctx.faults.decide(media.id, 'download') : undefined
  if (fault?.delayMs) await waitUnlessClosed(res, fault.delayMs)
  if (fault?.expired) return refuse()
  if (fault?.redirectTo !== undefined) {
    res.writeHead(302, { location: fault.redirectTo, 'content-length': 0 })
    return void res.end()
  }
  if (fault?.downloadStatus !== undefined) {
    const headers: OutgoingHttpHeaders = {}
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds)
    return sendText(res, fault.downloadStatus, statusText(fault.downloadStatus), headers)
  }
  if (fault?.partialContent && req.headers.range === undefined && media.size > 0) {
    // Answered as if the client had asked for the head only: a valid 206 it never asked for.
    const cut = Math.min(media.size, Math.max(1, Math.floor(fault.atByte ?? media.size / 2)))
    return sendMedia(ctx, { method: req.method, headers: { range: `bytes=0-${cut - 1}` } }, res, media, fault, downloadHeaders(kind, url, media))
  }
  await sendMedia(ctx, req, res, media, fault, downloadHeaders(kind, url, media))
}

function downloadHeaders(kind: CdnKind, url: URL, media: StoredMedia): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { 'cache-control': 'max-age=1209600, no-transform' }
  if (kind === 'messenger' && url.searchParams.get('dl') === '1') {
    const name = (media.filename ?? 'file').replace(/["\\\r\n]/g, '_')
    headers['content-disposition'] = `attachment; filename="${name}"`
  }
  return headers
}

function statusText(status: number): string {
  const texts: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }
  return texts[status] ?? `Status ${status}`
}
