/**
 * Erasure reaching Meta: the `meta_delete` task of an erased media deletes its WhatsApp uploads
 * (`DELETE /{version}/{media_id}?phone_number_id=…`) with the number's token. Queued by the
 * catalog in the transaction that erases the media (markDeleted), so it survives a crash, and
 * retried with backoff while Meta or the network fails. An id Meta no longer knows (expired,
 * deleted before) is done. Messenger and Instagram have no call to delete a reusable attachment:
 * their cached ids are only forgotten (at erasure).
 */
import type { OutboundMedia } from '../catalog/catalog.js'
import { META_DELETE_TASK } from '../catalog/task-plans.js'
import { MediagateError, toMediagateError } from '../errors.js'
import type { GraphClients } from '../platforms/graph/index.js'
import type { TaskHandler } from '../tasks/task-jobs.js'

export interface MetaDeleteOptions {
  catalog: Pick<OutboundMedia, 'metaDeletionsOf' | 'endMetaDeletion'>
  graph: Pick<GraphClients, 'forWhatsApp'>
}

export function metaDeleteTaskHandler(options: MetaDeleteOptions): TaskHandler {
  return {
    kind: META_DELETE_TASK,
    retry: { maxAttempts: 10, baseDelayMs: 5000, maxDelayMs: 30 * 60_000 },
    async run(task, signal, log) {
      for (const deletion of await options.catalog.metaDeletionsOf(task.mediaId)) {
        const client = options.graph.forWhatsApp(deletion.accountId)
        if (!client) throw new MediagateError('no_token', `no access token for WhatsApp number ${deletion.accountId}: its upload ${deletion.handle} stays at Meta until it expires`)
        try {
          await client.deleteMedia(deletion.handle, { phoneNumberId: deletion.accountId, signal })
        } catch (err) {
          if (toMediagateError(err).code !== 'source_expired') throw err
        }
        await options.catalog.endMetaDeletion(deletion.id)
        log.info({ handle: deletion.handle, accountId: deletion.accountId }, 'deleted an upload of erased media at Meta')
      }
    },
  }
}
