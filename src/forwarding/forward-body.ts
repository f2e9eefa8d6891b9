/**
 * What the user's app receives: Meta's webhook exactly as Meta sent it, with one key added at
 * the top level, `mediagate`. The Meta part is kept byte for byte (spliced, not re-serialized),
 * so handlers that read Meta's fields keep working and numbers or escapes never change.
 */
import { MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import { presentScan, type ScanJson } from '../serve/present-media.js'

/** One media of the webhook, as the `mediagate.media[]` entries of a forward. */
export interface ForwardedMedia {
  id: string
  message_id: string
  attachment_index: number
  platform: string
  /** `pending` in `received` mode (capture runs after); `stored`, `failed` or `remote` once settled. */
  status: string
  kind: string
  mime_type: string | null
  size: number | null
  sha256: string | null
  error: { code: string; message: string } | null
  /** A signed, expiring link to the content (no API key needed); null when there is nothing to serve or links are not configured. */
  content_url: string | null
  /** The malware scan: `infected` (with the signature) for media quarantined, see `error`. */
  scan: ScanJson | null
}

/** The `mediagate` key added to Meta's payload. */
export interface ForwardBlock {
  webhook_id: string
  media: ForwardedMedia[]
}

export function forwardedMedia(m: MediaRecord, contentUrl: string | null): ForwardedMedia {
  return {
    id: m.id,
    message_id: m.messageId,
    attachment_index: m.attachmentIndex,
    platform: m.platform,
    status: m.status,
    kind: m.kind,
    mime_type: m.mimeType ?? m.declaredMime,
    size: m.size ?? m.declaredSize,
    sha256: m.sha256,
    error: m.error ? { code: m.error.code, message: m.error.message } : null,
    content_url: m.status === 'failed' || m.status === 'deleted' ? null : contentUrl,
    scan: presentScan(m.scan),
  }
}

/** Meta's body with `"mediagate": block` appended as its last top-level key. */
export function buildForwardBody(metaBody: Buffer, block: ForwardBlock): Buffer {
  const text = metaBody.toString('utf8').trimEnd()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new MediagateError('internal', 'the recorded webhook body is not JSON', { cause: err })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !text.endsWith('}')) {
    throw new MediagateError('internal', 'the recorded webhook body is not a JSON object')
  }
  const separator = Object.keys(parsed).length > 0 ? ',' : ''
  return Buffer.from(`${text.slice(0, -1)}${separator}"mediagate":${JSON.stringify(block)}}`, 'utf8')
}
