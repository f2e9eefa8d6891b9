/**
 * Pure builders of Meta-shaped webhook payloads, usable without a server, and `batch()` to put
 * several of them into one delivery (several entries, several events per entry), as Meta does.
 */
import { MediagateError } from '../errors.js'
import type { MessagingWebhook } from './messaging-payloads.js'
import type { WhatsAppValue, WhatsAppWebhook } from './whatsapp-payloads.js'

export * from './whatsapp-payloads.js'
export * from './messaging-payloads.js'

export type MetaWebhook = WhatsAppWebhook | MessagingWebhook

function mergeWhatsAppValues(into: WhatsAppValue, from: WhatsAppValue): void {
  for (const key of ['messages', 'statuses', 'errors'] as const) {
    if (from[key]) (into[key] as unknown[] | undefined) = [...(into[key] ?? []), ...from[key]]
  }
  if (from.contacts) {
    const known = new Set((into.contacts ?? []).map((c) => c.wa_id))
    into.contacts = [...(into.contacts ?? []), ...from.contacts.filter((c) => !known.has(c.wa_id))]
  }
}

/**
 * Merges payloads of the same `object` into one: entries with the same id are combined (their
 * `messaging[]` events, or for WhatsApp the values of the same phone number), others appended.
 */
export function batch<T extends MetaWebhook>(...payloads: T[]): T {
  const first = payloads[0]
  if (!first) throw new MediagateError('bad_request', 'batch() needs at least one payload')
  const merged = structuredClone(first) as MetaWebhook
  for (const next of payloads.slice(1)) {
    if (next.object !== merged.object) throw new MediagateError('bad_request', `batch(): cannot mix ${merged.object} and ${next.object} payloads`)
    for (const entry of structuredClone(next).entry) {
      if (merged.object === 'whatsapp_business_account') {
        const e = entry as WhatsAppWebhook['entry'][number]
        const target = merged.entry.find((x) => x.id === e.id)
        if (!target) {
          merged.entry.push(e)
          continue
        }
        for (const change of e.changes) {
          const same = target.changes.find((c) => c.value.metadata.phone_number_id === change.value.metadata.phone_number_id)
          if (same) mergeWhatsAppValues(same.value, change.value)
          else target.changes.push(change)
        }
      } else {
        const e = entry as MessagingWebhook['entry'][number]
        const target = merged.entry.find((x) => x.id === e.id)
        if (target) target.messaging.push(...e.messaging)
        else merged.entry.push(e)
      }
    }
  }
  return merged as T
}
