/**
 * A data-subject erasure: every media of one person (a phone number, BSUID, PSID or IGSID,
 * matched against `sender_id` and `sender_user_id`), optionally on one platform, erased as a
 * DELETE erases one (eraser.ts: tombstones first, then each unshared blob under the catalog's
 * deletion claims, so a capture in flight keeps or cleans up its bytes as it would for a DELETE).
 * `POST /v1/erasures` and `mediagate delete --sender` share it.
 */
import type { MediaQueries } from '../catalog/catalog.js'
import type { Platform } from '../media/record.js'
import type { Eraser } from './eraser.js'

const PAGE = 500
/** 500 × 20,000 pages: ten million media of one sender before the walk stops. */
const MAX_PAGES = 20_000

export interface SenderErasure {
  sender: string
  platform?: Platform
}

/** Returns how many records became tombstones now (those deleted before are not counted again). */
export async function eraseSender(request: SenderErasure, deps: { catalog: Pick<MediaQueries, 'list'>; eraser: Pick<Eraser, 'erase'> }): Promise<number> {
  const filter = { sender: request.sender, ...(request.platform ? { platform: request.platform } : {}) }
  let erased = 0
  let cursor: string | undefined
  // Erasing changes a record's status, never its id, so the keyset pages stay stable under it.
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed = await deps.catalog.list(filter, { limit: PAGE, ...(cursor ? { cursor } : {}) })
    const live = new Set(listed.data.filter((m) => m.status !== 'deleted').map((m) => m.id))
    if (live.size > 0) erased += (await deps.eraser.erase([...live])).filter((t) => live.has(t.id)).length
    if (!listed.nextCursor) return erased
    cursor = listed.nextCursor
  }
  return erased
}
