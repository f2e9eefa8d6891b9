/**
 * What a failed media's error code means to the person on call: what failed, in words, whether a
 * retry can help, and what to fix (naming the setting or command). One entry per error code, so
 * the dashboard, the API and the CLI say the same thing; `test/unit/failure-explanations.test.ts`
 * checks every code the code base can store has one.
 *
 * `retry`: `helps` (the cause may pass on its own: retrying alone can succeed), `after_fix`
 * (retrying succeeds only once the named fix is made), `no` (nothing makes this media
 * capturable again; the fix, if any, is for the next one).
 */
import type { ErrorCode } from '../errors.js'
import type { MediaRecord, Platform } from './record.js'

export type RetryAdvice = 'helps' | 'after_fix' | 'no'

export interface FailureExplanation {
  summary: string
  retry: RetryAdvice
  fix: string
}

interface Entry extends FailureExplanation {
  /** Where a platform changes the story (an expired source: WhatsApp ids vs Messenger URLs). */
  platforms?: Partial<Record<Platform, Partial<FailureExplanation>>>
}

const CHECK_DOCTOR = 'run `mediagate doctor`, which checks it and says what to change'

export const FAILURE_EXPLANATIONS: Record<ErrorCode, Entry> = {
  // capture: between Meta and the blob store
  network: {
    summary: 'The download from Meta failed: the connection was refused, reset or timed out.',
    retry: 'helps',
    fix: 'Usually nothing: it passes. If it keeps happening, check this host reaches Meta (DNS, firewall, outbound proxy); for slow media raise MEDIAGATE_DOWNLOAD_TIMEOUT_MS or MEDIAGATE_DOWNLOAD_DEADLINE_MS.',
  },
  upstream: {
    summary: 'Meta answered with a server error (5xx) and kept doing so until mediagate gave up.',
    retry: 'helps',
    fix: 'Nothing on your side: retry once Meta answers again.',
  },
  rate_limited: {
    summary: 'Meta asked mediagate to slow down (HTTP 429 or a Graph throttling code) until it gave up.',
    retry: 'helps',
    fix: 'Retry later; if it happens often, lower MEDIAGATE_CONCURRENCY.',
  },
  auth: {
    summary: "Meta refused the access token (expired, revoked, or lacking a permission), so the media could not be looked up or downloaded.",
    retry: 'after_fix',
    fix: 'Renew the token: WHATSAPP_ACCESS_TOKEN, or the account\'s token in mediagate.config.json (MEDIAGATE_CONFIG_FILE); `mediagate doctor` checks it. Then retry.',
  },
  source_expired: {
    summary: 'Meta no longer serves this media: its media id or CDN URL expired before it was captured.',
    retry: 'no',
    fix: 'Ask the sender to send it again. To capture sooner next time, keep a worker running (MEDIAGATE_ROLE all or worker) with enough MEDIAGATE_CONCURRENCY.',
    platforms: {
      whatsapp: {
        fix: 'Ask the sender to send it again. A WhatsApp media id lives 7 days (1 hour on a No-Storage number): keep a worker running (MEDIAGATE_ROLE all or worker), and with storage policy lazy run `mediagate capture` before the deadline.',
      },
      messenger: {
        fix: "Ask the sender to send it again. With the page's token in mediagate.config.json, mediagate re-fetches expired Messenger URLs through Graph; add it so the next expired URL is recovered.",
      },
      instagram: {
        fix: "Ask the sender to send it again. With the Instagram account's token in mediagate.config.json, mediagate re-fetches expired URLs through Graph (only for the 20 newest messages of a conversation); add it so the next one is recovered.",
      },
    },
  },
  source_rejected: {
    summary: "Meta refused the lookup or download with a client error (4xx): usually a token without permission for this account, or an id that is not this account's.",
    retry: 'after_fix',
    fix: "Read Meta's message in the error; give the token the permission it names, or fix the account's entry in mediagate.config.json. Then retry.",
  },
  integrity: {
    summary: "The bytes did not match Meta's declared sha256 or size (a download cut short or altered on the way, or stored bytes that `mediagate verify` found corrupt).",
    retry: 'helps',
    fix: 'Retry to download again while the source is still valid. If it fails the same way twice, the source itself is inconsistent: ask the sender to send it again.',
  },
  too_large: {
    summary: 'The media is larger than MEDIAGATE_MAX_BYTES, so mediagate stopped downloading it.',
    retry: 'after_fix',
    fix: 'Raise MEDIAGATE_MAX_BYTES (in bytes) above the media\'s size and restart; then retry while the source is valid.',
  },
  host_not_allowed: {
    summary: 'The media URL points at a host outside MEDIAGATE_ALLOWED_HOSTS (or uses a scheme that is not allowed), so mediagate did not download it.',
    retry: 'after_fix',
    fix: 'If you trust the host, add it to MEDIAGATE_ALLOWED_HOSTS and restart; then retry.',
  },
  address_refused: {
    summary: 'The media host resolved to a loopback, private or otherwise non-public address; mediagate refuses those so a webhook cannot make it reach your internal network.',
    retry: 'after_fix',
    fix: "Check this host's DNS. Only if the private address is intended (a test CDN), list the host explicitly in MEDIAGATE_ALLOWED_HOSTS and restart; then retry.",
  },
  too_many_redirects: {
    summary: 'The download was redirected too many times (a redirect loop at the source).',
    retry: 'no',
    fix: 'Nothing in mediagate: ask the sender to send it again.',
  },
  meta_error: {
    summary: "Meta reported in the webhook that it could not deliver this media (Meta's code and words are in the error).",
    retry: 'no',
    fix: "Nothing in mediagate: Meta never had the media for us. Ask the sender to send it again; Meta's code (e.g. 131052 media download error, 131053 upload error) tells why.",
  },
  deleted: {
    summary: 'The media was erased (retention, DELETE, an erasure request or an unsend); only its tombstone is kept.',
    retry: 'no',
    fix: 'Nothing: the bytes are gone by design.',
  },
  // malware scanning
  infected: {
    summary: 'The malware scanner found a signature in the bytes (named in the error); they are quarantined, never served or forwarded.',
    retry: 'no',
    fix: 'Review it. If it is a false positive, release it instead of retrying: `mediagate scan --release <id>` or POST /v1/media/{id}/release.',
  },
  too_large_to_scan: {
    summary: "The media is larger than clamd's stream limit, and MEDIAGATE_CLAMAV_OVERSIZE is fail, so it was not stored.",
    retry: 'after_fix',
    fix: "Raise clamd's StreamMaxLength and MEDIAGATE_CLAMAV_STREAM_MAX_BYTES to match, or set MEDIAGATE_CLAMAV_OVERSIZE=pass to store such media unscanned; restart, then retry.",
  },
  scanner: {
    summary: 'The malware scanner (clamd) could not be reached, timed out or failed; the media waits, its bytes kept, and is scanned again.',
    retry: 'helps',
    fix: `Start clamd or correct MEDIAGATE_CLAMAV_URL (raise MEDIAGATE_CLAMAV_TIMEOUT_MS if it is slow); ${CHECK_DOCTOR}.`,
  },
  // jobs
  crashed: {
    summary: 'MEDIAGATE_CRASH_LIMIT attempts in a row ended with their process (a crash, a hang or a lost lease), so the media was given up instead of taken again.',
    retry: 'after_fix',
    fix: "Find in the worker's logs what ended the process (out of memory, a hang, a restart loop) and fix that first: retrying a media that kills its worker kills it again.",
  },
  // our own backends
  storage: {
    summary: 'The blob store failed while storing the bytes.',
    retry: 'helps',
    fix: `Check the blob store (MEDIAGATE_STORAGE_URL: disk space and permissions, or the S3 endpoint and credentials); ${CHECK_DOCTOR}.`,
  },
  catalog: {
    summary: 'The catalog database failed while recording the capture.',
    retry: 'helps',
    fix: `Check the database (MEDIAGATE_DATABASE_URL, or disk space under MEDIAGATE_DATA_DIR for SQLite); ${CHECK_DOCTOR}.`,
  },
  internal: {
    summary: 'An unexpected error inside mediagate: a bug.',
    retry: 'after_fix',
    fix: 'Report it with the error message and the log lines around it; retry after upgrading, or once to see whether it repeats.',
  },
  // outbound media and derivatives: on a media only when its own processing failed this way
  no_token: {
    summary: 'There is no access token for the account this media belongs to.',
    retry: 'after_fix',
    fix: "Add the account's token to mediagate.config.json (WhatsApp numbers may use WHATSAPP_ACCESS_TOKEN) and restart; then retry.",
  },
  meta_rejected: {
    summary: "Meta refused the upload of this media (Meta's message is in the error).",
    retry: 'no',
    fix: "Read Meta's message: the media itself is refused (type, size or content); send a different file.",
  },
  unsupported_media: {
    summary: 'The platform does not take this type of media, and mediagate cannot convert it.',
    retry: 'no',
    fix: 'Send it in one of the types the error names.',
  },
  too_large_for_platform: {
    summary: "The media is larger than the platform's limit for its type, and mediagate cannot make it smaller.",
    retry: 'no',
    fix: 'Send a smaller file (the error names the limit).',
  },
  unprocessable_media: {
    summary: 'The stored bytes could not be decoded: corrupt, of an unsupported format, or more pixels than MEDIAGATE_MAX_PIXELS.',
    retry: 'no',
    fix: 'If the picture is simply large, raise MEDIAGATE_MAX_PIXELS; otherwise the file itself is damaged.',
  },
  tool_unavailable: {
    summary: 'A tool mediagate needs for this media is not installed (ffmpeg for audio and video).',
    retry: 'after_fix',
    fix: 'Install ffmpeg or point MEDIAGATE_FFMPEG at it; `mediagate doctor` says how. Then retry.',
  },
  no_thumbnail: {
    summary: 'This media cannot have a thumbnail (audio, documents), or making one failed.',
    retry: 'no',
    fix: 'Nothing: the media itself is fine.',
  },
  no_preview: {
    summary: 'This media has no playable preview: it is not audio or video, or making one failed.',
    retry: 'no',
    fix: 'Nothing: the media itself is fine.',
  },
  // request and configuration errors: API answers, on a media only by accident
  invalid_config: {
    summary: "mediagate's configuration was missing or wrong when this media was handled.",
    retry: 'after_fix',
    fix: `Correct the setting the error names and restart; ${CHECK_DOCTOR}. Then retry.`,
  },
  bad_request: {
    summary: 'A request made for this media was malformed.',
    retry: 'no',
    fix: 'Read the error: it names the field. If mediagate made the request itself, report it as a bug.',
  },
  unauthorized: {
    summary: 'A key or signature was missing or wrong.',
    retry: 'after_fix',
    fix: 'Check MEDIAGATE_API_KEY and META_APP_SECRET; then retry.',
  },
  forbidden: {
    summary: 'The request was not allowed.',
    retry: 'no',
    fix: 'Read the error: it says what is not allowed.',
  },
  not_found: {
    summary: 'Something this media needs was not found (its stored bytes, say).',
    retry: 'helps',
    fix: 'Retry to download the media again while its source is valid; `mediagate verify` finds other missing blobs.',
  },
  conflict: {
    summary: 'The media was not in a state that allowed the operation.',
    retry: 'no',
    fix: 'Read the error: it names the state.',
  },
  count_changed: {
    summary: 'A batch action found another number of media than its confirmation showed, and did nothing.',
    retry: 'helps',
    fix: 'Count again and confirm the new number.',
  },
  payload_too_large: {
    summary: 'A request body was too large.',
    retry: 'no',
    fix: 'Send a smaller body.',
  },
  too_many_requests: {
    summary: 'Too many requests were refused from one address.',
    retry: 'helps',
    fix: 'Wait for the time the error names, then try again.',
  },
}

/** For a code this version does not know (written by a newer one, or an old one since renamed). */
function unknownCode(code: string): FailureExplanation {
  return { summary: `Failed with error code ${code}, which this version of mediagate does not explain.`, retry: 'after_fix', fix: 'Read the error message; upgrading mediagate may explain the code.' }
}

export function explainErrorCode(code: string, platform?: Platform): FailureExplanation {
  const entry = Object.hasOwn(FAILURE_EXPLANATIONS, code) ? FAILURE_EXPLANATIONS[code as ErrorCode] : undefined
  if (!entry) return unknownCode(code)
  const { platforms, ...base } = entry
  return { ...base, ...(platform ? platforms?.[platform] : undefined) }
}

/**
 * The explanation of a media's error: for failed media, and pending media that carry their last
 * error (a retry under way); undefined otherwise. A WhatsApp media id is dead past its deadline,
 * so a retry that would otherwise help cannot any more.
 */
export function explainFailure(media: Pick<MediaRecord, 'status' | 'error' | 'platform' | 'sourceExpiresAt' | 'direction'>, now: Date = new Date()): (FailureExplanation & { code: string }) | undefined {
  if (!media.error || (media.status !== 'failed' && media.status !== 'pending')) return undefined
  const explained = explainErrorCode(media.error.code, media.platform)
  const expired = media.direction === 'inbound' && media.platform === 'whatsapp' && media.sourceExpiresAt !== null && media.sourceExpiresAt.getTime() <= now.getTime()
  if (expired && explained.retry !== 'no' && media.status === 'failed') {
    return {
      code: media.error.code,
      summary: explained.summary,
      retry: 'no',
      fix: `${explained.fix} But its WhatsApp media id expired at ${media.sourceExpiresAt!.toISOString()}: a retry now fails with source_expired; ask the sender to send it again.`,
    }
  }
  return { code: media.error.code, ...explained }
}
