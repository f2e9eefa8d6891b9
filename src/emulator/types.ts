/**
 * The emulator's public types. Other parts of mediagate (e2e tests, benchmarks, sandbox mode,
 * `mediagate emulator`) code against these names; keep them stable.
 */
import type { Platform } from '../media/record.js'
import type { FaultSpec } from './faults.js'
import type { PayloadBuilders } from './bound-payloads.js'
import type { EmulatorStats } from './stats.js'

export type { Platform } from '../media/record.js'
export type { FaultSpec } from './faults.js'
export type { PayloadBuilders } from './bound-payloads.js'
export type { EmulatorStats, MediaCounters } from './stats.js'

export type Sha256Encoding = 'base64' | 'hex'
export type FileSizeType = 'string' | 'number'

export interface EmulatorOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port; default 0 (ephemeral). */
  port?: number
  /** The WhatsApp Bearer token that Graph and the WhatsApp download URL require. */
  accessToken: string
  /**
   * More tokens Graph and the WhatsApp download URL accept, by a label of your choice (a system
   * user's token per business, say). Stats count each media's requests by the label of the token
   * they came with (`default` for `accessToken`), never by the token itself.
   */
  extraAccessTokens?: Readonly<Record<string, string>>
  /** Signs webhooks: `X-Hub-Signature-256: sha256=<hex hmac of the raw body>`. */
  appSecret: string
  /** Default `v26.0`; any `/vNN.N/` prefix is accepted, as Meta does. */
  graphVersion?: string
  /** WhatsApp download URL lifetime. Default 5 minutes (Meta's documented value). */
  urlTtlMs?: number
  /** Messenger/Instagram CDN URL lifetime. Default 1 hour (Meta documents none). */
  cdnTtlMs?: number
  /** WhatsApp media id lifetime (ids received in webhooks). Default 7 days. */
  mediaIdTtlMs?: number
  /** Wait before the first byte of every Graph and CDN response. Default 0. */
  latencyMs?: number
  /** Default URL the webhook sender (and `/_emulator/send`) posts to. */
  webhookTarget?: string
  /** `file_size` type in lookups when the media does not choose. Default `number` (what real responses carry; Meta's examples show a string). */
  fileSizeType?: FileSizeType
  /** Clock for every expiry decision, injectable so tests can expire things without sleeping. */
  now?: () => number
  /**
   * Keep the media, messages and URL signing key in this directory (created if missing) and load
   * them at start, so media registered before a restart still resolve and their signed URLs
   * still verify. Default: in memory only, forgotten when the emulator stops.
   */
  stateDir?: string
}

/** Media the emulator can serve. Bytes are either given or generated on the fly from the id. */
export interface RegisteredMedia {
  readonly id: string
  readonly platform: Platform
  readonly mimeType: string
  readonly size: number
  /** Filename for documents/files, when known. */
  readonly filename: string | undefined
  /** CDN media: the signed, expiring URL given out at registration. WhatsApp: undefined (look it up). */
  readonly url: string | undefined
  /** Computed on first access and cached (generated media are hashed by streaming them once). */
  readonly sha256Hex: string
  readonly sha256Base64: string
  /** The webhook-ready sha256 in the media's chosen encoding (what WhatsApp puts in `sha256`). */
  readonly sha256: string
  readonly sha256Encoding: Sha256Encoding
  /** How `file_size` is typed in this media's Graph lookups. */
  readonly fileSizeType: FileSizeType
  /** WhatsApp: the business phone number the media belongs to, checked against `?phone_number_id=`. */
  readonly phoneNumberId: string | undefined
  /** True when the bytes are generated from the id rather than held in memory. */
  readonly generated: boolean
  /** Emulator clock time of registration (media-id expiry counts from here). */
  readonly createdAt: number
}

export interface AddWhatsAppMedia {
  /** The bytes; or give `size` to have deterministic pseudo-random bytes generated on the fly. */
  bytes?: Buffer
  size?: number
  mimeType: string
  /** Default `base64` (Meta's webhook reference); `hex` is what a field test got from Graph. */
  sha256Encoding?: Sha256Encoding
  fileSizeType?: FileSizeType
  /** Default: a random 16-digit id like Meta's. */
  id?: string
  filename?: string
  phoneNumberId?: string
}

export interface AddCdnMedia {
  platform: 'messenger' | 'instagram'
  bytes?: Buffer
  size?: number
  mimeType: string
  filename?: string
  /** URL lifetime; default `cdnTtlMs`. */
  ttlMs?: number
  id?: string
}

export interface SendWebhookOptions {
  /** Default: the emulator's `webhookTarget`. */
  target?: string
  /** Default: the emulator's app secret; `null` sends the webhook unsigned. */
  secret?: string | null
  /** Sent verbatim as `X-Hub-Signature-256` instead of the computed signature. */
  signatureOverride?: string
}

export interface WebhookResult {
  status: number
  body: string
}

export interface Emulator {
  /** `http://127.0.0.1:PORT`: the Graph base URL (META_GRAPH_URL) and the CDN host. */
  readonly url: string
  readonly accessToken: string
  readonly appSecret: string
  readonly graphVersion: string
  addWhatsAppMedia(m: AddWhatsAppMedia): RegisteredMedia
  /** The returned media's `url` is a signed, expiring CDN URL. */
  addCdnMedia(m: AddCdnMedia): RegisteredMedia
  media(id: string): RegisteredMedia | undefined
  /** A fresh WhatsApp download URL for the media, as a lookup would return it now. */
  whatsappUrl(id: string): string
  /** A freshly signed CDN URL for Messenger/Instagram media (extends an Instagram asset's life). */
  cdnUrl(id: string, ttlMs?: number): string
  /** Faults for one media id, or `'*'` for every media; replaces what was set for that key. */
  setFaults(idOrAll: string, faults: FaultSpec): void
  clearFaults(): void
  stats(): EmulatorStats
  resetStats(): void
  /**
   * Makes Graph's Message node (`GET /{message-id}?fields=attachments`) answer for the Messenger
   * and Instagram messages of this webhook. The bound `messengerMedia`/`instagramMedia` builders
   * and `sendWebhook` do it themselves; call it for a payload built and posted otherwise.
   */
  rememberMessages(payload: object): void
  /** Payload builders bound to this emulator (defaults filled from registered media). */
  payloads: PayloadBuilders
  sendWebhook(payload: object | Buffer, opts?: SendWebhookOptions): Promise<WebhookResult>
  close(): Promise<void>
}
