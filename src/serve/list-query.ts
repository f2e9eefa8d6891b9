/** Parses and validates `GET /v1/media` query parameters, with a clear message per mistake. */
import type { MediaFilter } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import { MEDIA_KINDS, MEDIA_STATUSES, PLATFORMS } from '../media/record.js'

export interface ListQuery {
  filter: MediaFilter
  limit: number
  cursor: string | undefined
}

const KNOWN = new Set(['message_id', 'sender', 'platform', 'status', 'kind', 'account_id', 'error_code', 'received_after', 'received_before', 'limit', 'cursor'])

export function parseListQuery(query: Record<string, unknown>): ListQuery {
  for (const key of Object.keys(query)) {
    if (!KNOWN.has(key)) throw bad(`unknown query parameter "${key}"; known: ${[...KNOWN].join(', ')}`)
  }
  const str = (key: string): string | undefined => {
    const v = query[key]
    if (v === undefined) return undefined
    if (typeof v !== 'string' || v.length === 0 || v.length > 512) throw bad(`${key} must be given once, as a non-empty string`)
    return v
  }
  const oneOf = <T extends string>(key: string, choices: readonly T[]): T | undefined => {
    const v = str(key)
    if (v === undefined) return undefined
    if (!(choices as readonly string[]).includes(v)) throw bad(`${key} must be one of ${choices.join(', ')}`)
    return v as T
  }
  const date = (key: string): Date | undefined => {
    const v = str(key)
    if (v === undefined) return undefined
    const d = new Date(v)
    if (Number.isNaN(d.getTime())) throw bad(`${key} must be an ISO 8601 date`)
    return d
  }
  const limitRaw = str('limit')
  const limit = limitRaw === undefined ? 50 : Number(limitRaw)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw bad('limit must be a whole number from 1 to 1000')
  const filter: MediaFilter = {}
  const assign = <K extends keyof MediaFilter>(k: K, v: MediaFilter[K] | undefined) => {
    if (v !== undefined) filter[k] = v
  }
  assign('messageId', str('message_id'))
  assign('sender', str('sender'))
  assign('platform', oneOf('platform', PLATFORMS))
  assign('status', oneOf('status', MEDIA_STATUSES))
  assign('kind', oneOf('kind', MEDIA_KINDS))
  assign('accountId', str('account_id'))
  assign('errorCode', str('error_code'))
  assign('receivedAfter', date('received_after'))
  assign('receivedBefore', date('received_before'))
  return { filter, limit, cursor: str('cursor') }
}

const bad = (message: string) => new MediagateError('bad_request', message)
