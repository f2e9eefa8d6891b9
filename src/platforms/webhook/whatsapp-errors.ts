/**
 * WhatsApp reports media it could not hand over as `errors[]` in the webhook: on the message
 * (131051 unsupported type, 131052 media download error…) or on the change, for system- and
 * account-level failures that name no message. Both become failed records with `meta_error`.
 */
import { createHash } from 'node:crypto'
import type { MediaError } from '../../media/record.js'
import { isRecord, type Json, own } from './fields.js'

const MAX_TEXT = 500

/** The first well-formed error of an `errors` array, or null when there is none. */
export function firstError(errors: readonly unknown[] | null): Json | null {
  if (!errors) return null
  // Only the first few are looked at: Meta sends one; more is noise or an attack.
  for (const e of errors.slice(0, 10)) if (isRecord(e)) return e
  return null
}

function metaCode(error: Json): number | null {
  const code = own(error, 'code')
  if (typeof code === 'number' && Number.isSafeInteger(code)) return code
  if (typeof code === 'string' && /^\d{1,12}$/.test(code)) return Number(code)
  return null
}

function metaText(error: Json): string {
  const details = own(error, 'error_data')
  for (const text of [own(error, 'title'), own(error, 'message'), isRecord(details) ? own(details, 'details') : undefined]) {
    if (typeof text === 'string' && text.trim() !== '') return text.replace(/[\x00-\x1f\x7f]/g, ' ').trim().slice(0, MAX_TEXT)
  }
  return 'no description'
}

/** `{ code: 'meta_error', message: '131052: Media download error', vendorCode: 131052 }` */
export function metaError(error: Json): MediaError {
  const code = metaCode(error)
  return { code: 'meta_error', message: `${code ?? 'unknown'}: ${metaText(error)}`, vendorCode: code }
}

/**
 * Change-level errors carry no message id. This one is derived from the error and where it
 * was reported, so a redelivery of the same webhook maps onto the same record.
 */
export function syntheticErrorId(entryId: string, accountId: string, error: Json): string {
  const details = own(error, 'error_data')
  const content = JSON.stringify([
    entryId,
    accountId,
    metaCode(error),
    metaText(error),
    strOrNull(own(error, 'title')),
    strOrNull(own(error, 'message')),
    isRecord(details) ? strOrNull(own(details, 'details')) : null,
  ])
  return `werr.${createHash('sha256').update(content).digest('hex').slice(0, 40)}`
}

function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}
