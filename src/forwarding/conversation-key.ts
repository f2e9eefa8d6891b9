/**
 * The conversation a webhook belongs to, for ordering forwards: the business account (WhatsApp
 * phone_number_id, page or Instagram account id) and the other party. Meta batches several
 * events in one delivery only rarely; the first event decides, which keeps a conversation's
 * deliveries in order in the common case and never blocks one conversation on another's.
 */

type Json = Record<string, unknown>

function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined
}

function first(value: unknown): Json | undefined {
  return Array.isArray(value) ? obj(value[0]) : undefined
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : ''
}

/** `whatsapp:<phone_number_id>:<wa_id>`, `page:<page id>:<user id>`, `instagram:…`, or `<object>:<entry id>`. */
export function conversationKey(payload: unknown, object: string): string {
  const entry = first(obj(payload)?.entry)
  if (object === 'whatsapp_business_account') {
    const value = obj(first(entry?.changes)?.value)
    const number = text(obj(value?.metadata)?.phone_number_id)
    const other = text(first(value?.messages)?.from) || text(first(value?.statuses)?.recipient_id) || text(first(value?.contacts)?.wa_id)
    return `whatsapp:${number}:${other}`
  }
  const event = first(entry?.messaging) ?? obj(first(entry?.changes)?.value)
  // An echo is the business's own message: the user is its recipient.
  const echo = obj(event?.message)?.is_echo === true
  const user = text(obj(echo ? event?.recipient : event?.sender)?.id)
  return `${object}:${text(entry?.id)}:${user}`
}
