/** A NewMedia with every field present: what a webhook does not say is null, never undefined. */
import type { NewMedia } from '../../media/record.js'

type Required = 'platform' | 'accountId' | 'messageId' | 'attachmentIndex' | 'direction' | 'kind' | 'sourceType'

export function newMedia(known: Pick<NewMedia, Required> & Partial<NewMedia>): NewMedia {
  return {
    senderId: null,
    senderUserId: null,
    sourceMediaId: null,
    sourceUrl: null,
    sourceExpiresAt: null,
    declaredMime: null,
    declaredSha256: null,
    declaredSize: null,
    filename: null,
    caption: null,
    voice: null,
    animated: null,
    igPostMediaId: null,
    title: null,
    sentAt: null,
    error: null,
    ...known,
  }
}
