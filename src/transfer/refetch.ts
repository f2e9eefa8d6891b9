/**
 * Re-fetching an expired Messenger or Instagram attachment. A CDN URL that the CDN refuses
 * (403, 404, 410: expired) is not the end when the page's token is configured: Graph's Message
 * node, `GET /{message-id}?fields=attachments`, lists the message's attachments with fresh URLs
 * [M15], and the attachment at the same position is the one we lost. The token goes to Graph
 * only; the fresh URL is downloaded like the first, without it. Instagram answers only for the
 * 20 most recent messages of a conversation [M16]: an older one stays `source_expired`.
 */
import { MediagateError } from '../errors.js'
import type { GraphClients } from '../platforms/graph/index.js'
import type { MediaSource } from './open-source.js'

/** A fresh URL for the attachment, or the original `expired` error (with why it could not be had). */
export async function refetchUrl(media: MediaSource, graph: GraphClients, expired: MediagateError, signal: AbortSignal): Promise<string> {
  if (media.messageId === undefined || media.attachmentIndex === undefined) throw expired
  const client = graph.forPage(media.accountId)
  if (!client) throw expired
  let urls: (string | null)[]
  try {
    urls = await client.messageAttachments(media.messageId, { signal })
  } catch (err) {
    // Rate limits and outages are worth another attempt; anything else (the message is gone,
    // older than Instagram's window, a refused token) leaves the media expired, saying why.
    if (err instanceof MediagateError && err.retryable) throw err
    const why = err instanceof Error ? err.message : String(err)
    throw new MediagateError('source_expired', `${expired.message}; re-fetching through Graph's Message node failed: ${why}`, { vendorCode: expired.vendorCode ?? undefined, cause: err })
  }
  const url = urls[media.attachmentIndex]
  if (!url) throw new MediagateError('source_expired', `${expired.message}; Graph's Message node has no URL for attachment ${media.attachmentIndex}`, { vendorCode: expired.vendorCode ?? undefined })
  return url
}
