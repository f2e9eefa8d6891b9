/**
 * `parseWebhook` turns a parsed Meta webhook body into the media records and unsends it
 * implies. It is pure (no I/O, no clock: the caller says when the body arrived) and total: any
 * input, however hostile, gives a result, with what it skipped listed in `problems`. Verify the
 * signature over the raw bytes (signature.ts) before trusting anything it returns.
 */
import { MediagateError } from '../../errors.js'
import { Fields, isRecord, own } from './fields.js'
import { parseMessagingEntry } from './messenger.js'
import { ParseContext } from './parse-context.js'
import type { ParsedWebhook, ParseWebhookOptions } from './types.js'
import { parseWhatsAppEntry } from './whatsapp.js'

export const SUPPORTED_OBJECTS = ['whatsapp_business_account', 'page', 'instagram'] as const

export function parseWebhook(payload: unknown, options: ParseWebhookOptions): ParsedWebhook {
  const receivedAt = options.receivedAt
  if (!(receivedAt instanceof Date) || Number.isNaN(receivedAt.getTime())) {
    // A programming error of the caller, not hostile input: refusing beats inventing a time.
    throw new MediagateError('internal', 'parseWebhook: options.receivedAt must be a valid Date')
  }
  const ctx = new ParseContext(receivedAt)
  let object = ''
  try {
    if (!isRecord(payload)) {
      ctx.note('payload', 'is not a JSON object')
    } else {
      const rawObject = own(payload, 'object')
      object = typeof rawObject === 'string' ? rawObject : ''
      if (rawObject !== undefined && typeof rawObject !== 'string') ctx.note('payload', '`object` is not a string')
      if (isSupported(object)) parseEntries(object, new Fields(payload, 'payload', ctx), ctx)
    }
  } catch {
    // Unreachable for JSON input (every item is guarded); kept so a library caller's exotic
    // object (a throwing getter on the payload itself) still gets an answer.
    ctx.note('payload', 'reading it failed; the rest was skipped')
  }
  return { object, supported: isSupported(object), media: ctx.media, unsends: ctx.unsends, problems: ctx.finalProblems() }
}

function isSupported(object: string): object is (typeof SUPPORTED_OBJECTS)[number] {
  return (SUPPORTED_OBJECTS as readonly string[]).includes(object)
}

function parseEntries(object: (typeof SUPPORTED_OBJECTS)[number], payload: Fields, ctx: ParseContext): void {
  const entries = payload.list('entry')
  if (entries === null) {
    if (payload.get('entry') == null) ctx.note('payload', '`entry` is missing')
    return
  }
  ctx.each(entries, 'entry', (entry, path) => {
    if (object === 'whatsapp_business_account') parseWhatsAppEntry(entry, path, ctx)
    else parseMessagingEntry(object === 'page' ? 'messenger' : 'instagram', entry, path, ctx)
  })
}
