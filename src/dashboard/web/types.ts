/**
 * The JSON the page reads, as the browser sees it. Written out here rather than imported from
 * the server modules: those pull in Node's types, which this half of the code must not see.
 * test/dashboard/web-assets.test.ts checks at compile time that the server's shapes still fit.
 */

export interface MediaJson {
  id: string
  platform: string
  account_id: string
  message_id: string
  /** Phone number (WhatsApp), PSID (Messenger) or IGSID (Instagram); null for our own uploads. */
  sender_id: string | null
  /** WhatsApp's business-scoped user id (BSUID). */
  sender_user_id: string | null
  /** The sender's display name, where the gateway knows it. */
  sender_name?: string | null
  direction: string
  kind: string
  status: string
  mime_type: string | null
  size: number | null
  sha256: string | null
  filename: string | null
  caption: string | null
  declared: { mime_type: string | null; sha256: string | null; size: number | null }
  sniffed_mime_type: string | null
  voice: boolean | null
  error: { code: string; message: string } | null
  /** For failed media: what failed in words, whether a retry can help, and what to fix first. */
  failure?: Failure | null
  received_at: string
  stored_at: string | null
  attempts: number
  /** The malware scan; null until the bytes were held. */
  scan: { status: string; engine: string | null; scanned_at: string | null; signature: string | null; released_at: string | null } | null
  width?: number | null
  height?: number | null
  duration_ms?: number | null
  /** 64 integers 0..100 (voice notes and audio). */
  waveform?: number[] | null
  /** ThumbHash, base64. */
  placeholder?: string | null
  derivatives?: { status: string; error: string | null } | null
  // Every other field is shown as it comes, flattened, in the detail view.
}

export interface Failure {
  code: string
  summary: string
  /** `helps`: retrying is worth it now; `after_fix`: after `fix` is done; `no`: it cannot help. */
  retry: 'helps' | 'after_fix' | 'no'
  fix: string | null
}

export interface MediaPage {
  data: MediaJson[]
  next_cursor: string | null
}

export interface StatsJson {
  counts: { platform: string; status: string; count: number }[]
  last_hour: { stored: number; failed: number; failed_by_code: { code: string; count: number }[] }
  capture_rate_per_min: number
  oldest_pending_at: string | null
  near_deadline: { count: number; earliest: string | null }
}

/** Which optional API routes this gateway has. */
export interface Features {
  links: boolean
  delete: boolean
}

export type Session = { signed_in: false } | { signed_in: true; features: Features }

export interface SignedLink {
  url: string
  expires_at: string
}

export interface ApiErrorBody {
  error?: { code?: string; message?: string }
}

/** GET /v1/media/count: how many media match the filters, counted up to a cap. */
export interface MediaCount {
  count: number
  /** The count stopped at the cap: there are at least `count`. */
  capped: boolean
}

export type BatchAction = 'retry' | 'delete'

/** POST /v1/media/batch's answer. */
export interface BatchResult {
  action: BatchAction
  matched: number
  done: number
  skipped: { id: string; reason: string }[]
}
