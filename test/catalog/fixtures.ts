/** Builders for catalog tests: plausible normalized media and webhooks, unique per call. */
import { randomUUID } from 'node:crypto'
import type { IncomingWebhook } from '../../src/catalog/catalog.js'
import type { NewMedia } from '../../src/media/record.js'

let sequence = 0

export function newMedia(overrides: Partial<NewMedia> = {}): NewMedia {
  sequence += 1
  return {
    platform: 'whatsapp',
    accountId: '106540352242922',
    messageId: `wamid.test-${sequence}-${randomUUID().slice(0, 8)}`,
    attachmentIndex: 0,
    senderId: '15551234567',
    senderUserId: null,
    direction: 'inbound',
    kind: 'image',
    sourceType: 'image',
    sourceMediaId: `${1_000_000 + sequence}`,
    sourceUrl: null,
    sourceExpiresAt: null,
    declaredMime: 'image/jpeg',
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
    ...overrides,
  }
}

/** A webhook carrying `media`; its body is unique unless one is given. */
export function webhook(media: NewMedia[], options: { body?: Buffer; receivedAt?: Date; object?: string } = {}): IncomingWebhook {
  return {
    object: options.object ?? 'whatsapp_business_account',
    body: options.body ?? Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', nonce: randomUUID(), messages: media.map((m) => m.messageId) })),
    receivedAt: options.receivedAt ?? new Date(),
    media,
  }
}

/** Records `count` single-media webhooks in one batch and returns the created ids in order. */
export async function seed(catalog: { recordWebhooks(b: IncomingWebhook[]): Promise<{ created: { id: string }[] }[]> }, count: number, overrides: Partial<NewMedia> = {}): Promise<string[]> {
  const results = await catalog.recordWebhooks(Array.from({ length: count }, () => webhook([newMedia(overrides)])))
  return results.flatMap((r) => r.created.map((c) => c.id))
}
