/**
 * Pure builders of WhatsApp Cloud API `messages` webhooks, shaped after Meta's webhook reference
 * examples (field order included). Defaults are the ids Meta's own examples use.
 */
import { createHash, randomBytes } from 'node:crypto'

export const WHATSAPP_DEFAULTS = Object.freeze({
  wabaId: '102290129340398',
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '15550783881',
  from: '16505551234',
  profileName: 'Sheena Nelson',
})

export type WhatsAppMediaType = 'image' | 'video' | 'audio' | 'document' | 'sticker'

/** The media object of an inbound message, keyed in the message by its `type`. */
export interface WhatsAppMediaInput {
  type: WhatsAppMediaType
  id: string
  mime_type: string
  sha256: string
  caption?: string
  filename?: string
  voice?: boolean
  animated?: boolean
  /** The download URL Meta started adding to inbound media webhooks in November 2025. */
  url?: string
}

export interface WhatsAppMessageInput {
  /** The sender's phone number; `null` leaves it out, as Meta does for some users with a username. */
  from?: string | null
  profileName?: string
  /**
   * The sender's business-scoped user id (`contacts[].user_id`), sent with every message since
   * April 2026. Default: a stable `US.<digits>` derived from the phone number.
   */
  userId?: string
  /** `contacts[].profile.username` of a user who adopted a username. */
  username?: string
  /** `contacts[].parent_user_id` (`CC.ENT.…`), when the business enabled parent BSUIDs. */
  parentUserId?: string
  /** Default: a fresh `wamid.…`. */
  wamid?: string
  /** Unix seconds; default now. */
  timestamp?: number
  media?: WhatsAppMediaInput
  text?: string
  /** Reply context: the message this one answers. */
  context?: { from: string; id: string }
}

export interface WhatsAppAccountInput {
  phoneNumberId?: string
  wabaId?: string
  displayPhoneNumber?: string
}

export interface WhatsAppError {
  code: number
  title: string
  message: string
  error_data: { details: string }
  href?: string
}

export interface WhatsAppValue {
  messaging_product: 'whatsapp'
  metadata: { display_phone_number: string; phone_number_id: string }
  contacts?: { profile: { name: string; username?: string }; wa_id?: string; user_id?: string; parent_user_id?: string }[]
  messages?: Record<string, unknown>[]
  statuses?: Record<string, unknown>[]
  errors?: WhatsAppError[]
}

export interface WhatsAppWebhook {
  object: 'whatsapp_business_account'
  entry: { id: string; changes: { value: WhatsAppValue; field: 'messages' }[] }[]
}

export function newWamid(): string {
  return `wamid.HBgL${randomBytes(36).toString('base64')}`
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

function envelope(account: WhatsAppAccountInput, value: Omit<WhatsAppValue, 'messaging_product' | 'metadata'>): WhatsAppWebhook {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: account.wabaId ?? WHATSAPP_DEFAULTS.wabaId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: account.displayPhoneNumber ?? WHATSAPP_DEFAULTS.displayPhoneNumber,
                phone_number_id: account.phoneNumberId ?? WHATSAPP_DEFAULTS.phoneNumberId,
              },
              ...value,
            },
            field: 'messages',
          },
        ],
      },
    ],
  }
}

/** The media object in Meta's documented field order for its type. */
function mediaObject(m: WhatsAppMediaInput): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  if (m.caption !== undefined && m.type !== 'audio' && m.type !== 'sticker') o.caption = m.caption
  if (m.type === 'document') o.filename = m.filename ?? 'document'
  o.mime_type = m.mime_type
  o.sha256 = m.sha256
  o.id = m.id
  if (m.url !== undefined) o.url = m.url
  if (m.type === 'audio') o.voice = m.voice ?? false
  if (m.type === 'sticker') o.animated = m.animated ?? false
  return o
}

/** A BSUID as Meta formats them (`US.13491208655302741918`), stable per phone number. */
export function bsuidFor(phone: string, country = 'US'): string {
  const digits = BigInt(`0x${createHash('sha256').update(phone).digest('hex').slice(0, 16)}`).toString().padStart(20, '1')
  return `${country}.${digits}`
}

function fromOf(m: Pick<WhatsAppMessageInput, 'from'>): string | null {
  return m.from === undefined ? WHATSAPP_DEFAULTS.from : m.from
}

function message(m: WhatsAppMessageInput): Record<string, unknown> {
  const from = fromOf(m)
  const o: Record<string, unknown> = { ...(from !== null ? { from } : {}), id: m.wamid ?? newWamid(), timestamp: String(m.timestamp ?? nowSeconds()) }
  if (m.context) o.context = m.context
  if (m.media) {
    o.type = m.media.type
    o[m.media.type] = mediaObject(m.media)
  } else {
    o.type = 'text'
    o.text = { body: m.text ?? '' }
  }
  return o
}

/** One contact per sender (by BSUID), in Meta's field order; `wa_id` only when the phone number is shared. */
function contactsOf(messages: WhatsAppMessageInput[]): NonNullable<WhatsAppValue['contacts']> {
  const seen = new Map<string, NonNullable<WhatsAppValue['contacts']>[number]>()
  for (const m of messages) {
    const from = fromOf(m)
    const userId = m.userId ?? bsuidFor(from ?? m.username ?? WHATSAPP_DEFAULTS.from)
    if (seen.has(userId)) continue
    const profile: { name: string; username?: string } = { name: m.profileName ?? WHATSAPP_DEFAULTS.profileName }
    if (m.username !== undefined) profile.username = m.username
    seen.set(userId, { profile, ...(from !== null ? { wa_id: from } : {}), user_id: userId, ...(m.parentUserId !== undefined ? { parent_user_id: m.parentUserId } : {}) })
  }
  return [...seen.values()]
}

/** One inbound message (media or text) in a `messages` webhook. */
export function whatsappMessage(input: WhatsAppAccountInput & WhatsAppMessageInput): WhatsAppWebhook {
  return whatsappMessages({ ...input, messages: [input] })
}

/** Several inbound messages in one change, as Meta batches them. */
export function whatsappMessages(input: WhatsAppAccountInput & { messages: WhatsAppMessageInput[] }): WhatsAppWebhook {
  return envelope(input, { contacts: contactsOf(input.messages), messages: input.messages.map(message) })
}

const ERROR_DEFAULTS: Record<number, { title: string; details: string }> = {
  131051: { title: 'Message type unknown', details: 'Message type is currently not supported.' },
  131052: { title: 'Media download error', details: 'Unable to download the media sent by the user.' },
  130429: { title: 'Rate limit hit', details: 'Cloud API message throughput has been reached.' },
  131026: { title: 'Message undeliverable', details: 'Message could not be delivered.' },
}

export interface WhatsAppErrorInput extends WhatsAppAccountInput {
  code: number
  title?: string
  message?: string
  details?: string
  /** `message`: an `unsupported` message carrying `errors[]` (needs a sender); `value`: `value.errors[]`. Default: `message` when `from` is given. */
  scope?: 'message' | 'value'
  from?: string
  profileName?: string
  wamid?: string
  timestamp?: number
}

export function whatsappErrorObject(e: { code: number; title?: string; message?: string; details?: string }): WhatsAppError {
  const defaults = ERROR_DEFAULTS[e.code]
  const title = e.title ?? defaults?.title ?? `Error ${e.code}`
  return {
    code: e.code,
    title,
    message: e.message ?? title,
    error_data: { details: e.details ?? defaults?.details ?? title },
    href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
  }
}

/**
 * An asynchronous error webhook. With `scope: 'message'` the failure is about one inbound
 * message (e.g. 131052 for a file over 100 MB): Meta sends it as `type: "unsupported"` with
 * `errors[]` and no media id. With `scope: 'value'` it is a system- or account-level error.
 */
export function whatsappError(input: WhatsAppErrorInput): WhatsAppWebhook {
  const error = whatsappErrorObject(input)
  const scope = input.scope ?? (input.from !== undefined ? 'message' : 'value')
  if (scope === 'value') return envelope(input, { errors: [error] })
  const from = input.from ?? WHATSAPP_DEFAULTS.from
  const msg = { from, id: input.wamid ?? newWamid(), timestamp: String(input.timestamp ?? nowSeconds()), errors: [error], type: 'unsupported' }
  return envelope(input, { contacts: contactsOf([{ from, ...(input.profileName ? { profileName: input.profileName } : {}) }]), messages: [msg] })
}

export interface WhatsAppStatusInput extends WhatsAppAccountInput {
  wamid?: string
  status: 'sent' | 'delivered' | 'read' | 'failed'
  recipientId?: string
  timestamp?: number
  errors?: { code: number; title?: string; message?: string; details?: string }[]
}

/** A `statuses` webhook about a message the business sent (no media in it). */
export function whatsappStatus(input: WhatsAppStatusInput): WhatsAppWebhook {
  const s: Record<string, unknown> = {
    id: input.wamid ?? newWamid(),
    status: input.status,
    timestamp: String(input.timestamp ?? nowSeconds()),
    recipient_id: input.recipientId ?? WHATSAPP_DEFAULTS.from,
  }
  if (input.status !== 'failed') {
    s.conversation = { id: randomBytes(16).toString('hex'), origin: { type: 'service' } }
    s.pricing = { billable: false, pricing_model: 'PMP', category: 'service' }
  }
  if (input.errors?.length) s.errors = input.errors.map(whatsappErrorObject)
  return envelope(input, { statuses: [s] })
}
