/**
 * A user unsent a Messenger or Instagram message (`message_deletes`, `is_deleted`): with
 * MEDIAGATE_HONOR_UNSEND on (the default), the media of that message are erased like a DELETE.
 * Called by intake after the webhook is recorded; an unsend that arrives before its message
 * finds nothing to erase (Meta sends them in order, but does not promise to).
 */
import type { MediaQueries } from '../catalog/catalog.js'
import type { Logger } from '../logging/logger.js'
import type { Unsend } from '../platforms/webhook/types.js'
import type { Eraser } from './eraser.js'

export interface UnsendDeps {
  catalog: MediaQueries
  eraser: Eraser
  logger: Logger
}

/** Erases the media of every unsent message; returns how many records became tombstones. */
export async function eraseUnsent(unsends: Unsend[], deps: UnsendDeps): Promise<number> {
  let erased = 0
  for (const unsend of unsends) {
    const page = await deps.catalog.list({ platform: unsend.platform, accountId: unsend.accountId, messageId: unsend.messageId }, { limit: 1000 })
    const ids = page.data.filter((m) => m.status !== 'deleted').map((m) => m.id)
    if (ids.length === 0) continue
    erased += (await deps.eraser.erase(ids)).length
    deps.logger.info({ platform: unsend.platform, count: ids.length }, 'unsend: deleted the media of a message its sender took back')
  }
  return erased
}
