/**
 * The body of `POST /v1/media/batch`: `{"action": "retry"|"delete", "ids": [...]}` (1 to 1000
 * ids), or `{"action", "filter": {<GET /v1/media's filter fields>}, "expected": <n>}`, where
 * `expected` is the count the caller's confirmation showed.
 */
import type { MediaFilter } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import { parseFilterObject } from './list-query.js'

export const BATCH_ACTIONS = ['retry', 'delete'] as const
export type BatchAction = (typeof BATCH_ACTIONS)[number]

/** Ids named in one call. */
export const MAX_BATCH_IDS = 1000

export type BatchRequest = { action: BatchAction; ids: string[] } | { action: BatchAction; filter: MediaFilter; expected: number }

const FIELDS = ['action', 'ids', 'filter', 'expected']

export function parseBatchRequest(body: unknown): BatchRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('the body must be a JSON object: {"action": "retry"|"delete", "ids": [...]} or {"action", "filter": {...}, "expected": <count>}')
  }
  const o = body as Record<string, unknown>
  for (const key of Object.keys(o)) if (!FIELDS.includes(key)) throw bad(`unknown field "${key}"; known: ${FIELDS.join(', ')}`)
  const action = o.action
  if (typeof action !== 'string' || !(BATCH_ACTIONS as readonly string[]).includes(action)) throw bad(`action must be one of ${BATCH_ACTIONS.join(', ')}`)
  if ((o.ids === undefined) === (o.filter === undefined)) throw bad('give either ids or filter (with expected), not both or neither')
  if (o.ids !== undefined) {
    if (o.expected !== undefined) throw bad('expected goes with filter, not with ids')
    return { action: action as BatchAction, ids: parseIds(o.ids) }
  }
  const expected = o.expected
  if (typeof expected !== 'number' || !Number.isInteger(expected) || expected < 0) {
    throw bad('expected must be given with filter: the whole number of media the confirmation showed (GET /v1/media/count)')
  }
  return { action: action as BatchAction, filter: parseFilterObject(o.filter), expected }
}

function parseIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_BATCH_IDS) throw bad(`ids must be an array of 1 to ${MAX_BATCH_IDS} media ids`)
  for (const id of value) if (typeof id !== 'string' || id.length === 0 || id.length > 64) throw bad('every id must be a media id (a non-empty string)')
  return [...new Set(value as string[])]
}

const bad = (message: string) => new MediagateError('bad_request', message)
