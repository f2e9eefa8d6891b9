/**
 * New media under the current filters since the list was loaded, for the "N new — show" bar.
 * The list the operator is reading is never reordered under them: new media are only counted
 * until they ask to see them.
 */
import { api } from './api.js'
import { apiParams, type Filters } from './filters.js'
import type { MediaPage } from './types.js'

/** Counted exactly up to this many; beyond it the bar says "100+". */
export const LIVE_LIMIT = 100

export interface NewMedia {
  count: number
  /** There are more than `count`. */
  more: boolean
}

/**
 * `received_after` is inclusive, so media received in the same millisecond as the newest shown
 * come back too: those already on screen are not new.
 */
export async function countNew(filters: Filters, newest: string | null, shown: ReadonlySet<string>): Promise<NewMedia> {
  const params = apiParams(filters)
  const after = [filters.received_after, newest].filter((v): v is string => Boolean(v)).sort((a, b) => Date.parse(b) - Date.parse(a))[0]
  if (after) params.set('received_after', after)
  params.set('limit', String(LIVE_LIMIT))
  const page = await api<MediaPage>(`/v1/media?${params.toString()}`)
  const fresh = page.data.filter((m) => !shown.has(m.id)).length
  return { count: fresh, more: page.next_cursor !== null }
}

export function newBarText(n: NewMedia): string {
  return `${n.count}${n.more ? '+' : ''} new — show`
}
