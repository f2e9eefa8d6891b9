/**
 * Parses and validates the media filter of `GET /v1/media`, `GET /v1/media/count` and the
 * `filter` of `POST /v1/media/batch`, with a clear message per mistake.
 */
import type { MediaFilter } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import { MEDIA_KINDS, MEDIA_STATUSES, type MediaStatus, PLATFORMS } from '../media/record.js'

export interface ListQuery {
  filter: MediaFilter
  limit: number
  cursor: string | undefined
}

/** The filter's fields, as the query string (and a batch's `filter`) names them. */
export const FILTER_FIELDS = ['message_id', 'sender', 'q', 'platform', 'status', 'kind', 'account_id', 'error_code', 'received_after', 'received_before', 'changed_after'] as const

const LIST_FIELDS = new Set<string>([...FILTER_FIELDS, 'limit', 'cursor'])
const COUNT_FIELDS = new Set<string>(FILTER_FIELDS)

export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const fields = reader(query, LIST_FIELDS, 'query parameter')
  const limitRaw = fields.str('limit')
  const limit = limitRaw === undefined ? 50 : Number(limitRaw)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw bad('limit must be a whole number from 1 to 1000')
  return { filter: readFilter(fields), limit, cursor: fields.str('cursor') }
}

/** `GET /v1/media/count`: the list's filters, without paging. */
export function parseCountQuery(query: Record<string, unknown>): MediaFilter {
  return readFilter(reader(query, COUNT_FIELDS, 'query parameter'))
}

/** A batch's `filter` object: the same fields and rules as the query string, as JSON strings. */
export function parseFilterObject(value: unknown): MediaFilter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`filter must be a JSON object with some of: ${FILTER_FIELDS.join(', ')}`)
  return readFilter(reader(value as Record<string, unknown>, COUNT_FIELDS, 'filter field'))
}

type Reader = ReturnType<typeof reader>

function reader(source: Record<string, unknown>, known: Set<string>, noun: string) {
  for (const key of Object.keys(source)) {
    if (!known.has(key)) throw bad(`unknown ${noun} "${key}"; known: ${[...known].join(', ')}`)
  }
  const str = (key: string): string | undefined => {
    const v = source[key]
    if (v === undefined) return undefined
    if (typeof v !== 'string' || v.length === 0 || v.length > 512) throw bad(`${key} must be given once, as a non-empty string`)
    return v
  }
  return { str }
}

function readFilter({ str }: Reader): MediaFilter {
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
  const search = (): string | undefined => {
    const v = str('q')?.trim()
    if (v === '') throw bad('q must contain something other than spaces')
    return v
  }
  // `status=pending,failed`: any of them (the dashboard lists every status but deleted this way).
  const statuses = (): MediaFilter['status'] => {
    const v = str('status')
    if (v === undefined) return undefined
    const named = v.split(',').map((s) => s.trim())
    const unknown = named.find((s) => !(MEDIA_STATUSES as readonly string[]).includes(s))
    if (unknown !== undefined) throw bad(`status must be one of ${MEDIA_STATUSES.join(', ')}, or several of them separated by commas; got "${unknown}"`)
    const distinct = [...new Set(named)] as MediaStatus[]
    return distinct.length === 1 ? distinct[0] : distinct
  }
  const filter: MediaFilter = {}
  const assign = <K extends keyof MediaFilter>(k: K, v: MediaFilter[K] | undefined) => {
    if (v !== undefined) filter[k] = v
  }
  assign('messageId', str('message_id'))
  assign('sender', str('sender'))
  assign('q', search())
  assign('platform', oneOf('platform', PLATFORMS))
  assign('status', statuses())
  assign('kind', oneOf('kind', MEDIA_KINDS))
  assign('accountId', str('account_id'))
  assign('errorCode', str('error_code'))
  assign('receivedAfter', date('received_after'))
  assign('receivedBefore', date('received_before'))
  assign('changedAfter', date('changed_after'))
  return filter
}

const bad = (message: string) => new MediagateError('bad_request', message)
