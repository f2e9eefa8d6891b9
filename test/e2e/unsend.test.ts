/**
 * Unsend over real HTTP: a Messenger `message_deletes` or Instagram `is_deleted` webhook erases
 * the media of that message (tombstones, blobs gone unless shared) when MEDIAGATE_HONOR_UNSEND
 * is on, which is the default; with it off, the media stay.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { instagramMessage, messengerMessage, unsendMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const build = { messenger: messengerMessage, instagram: instagramMessage } as const

async function captureMessage(h: Harness, platform: 'messenger' | 'instagram', contents: Buffer[]): Promise<{ mid: string; records: MediaJson[] }> {
  const attachments = contents.map((bytes) => ({ type: 'image', url: h.emulator.addCdnMedia({ platform, bytes, mimeType: 'image/jpeg' }).url! }))
  const payload = build[platform]({ attachments })
  expect((await h.postWebhook(payload)).status).toBe(200)
  const mid = payload.entry[0]!.messaging[0]!.message!.mid as string
  const records = await h.settled((await h.mediaOf(mid)).map((m) => m.id))
  expect(records.map((r) => r.status)).toEqual(contents.map(() => 'stored'))
  return { mid, records }
}

describe('with MEDIAGATE_HONOR_UNSEND on (the default)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ env: { MEDIAGATE_POLICY_INSTAGRAM: 'proxy' } })
  })
  afterAll(async () => h?.close())

  it('Messenger: erases every media of the unsent message and their blobs, and nothing else', async () => {
    const a = randomBytes(1200)
    const b = randomBytes(1300)
    const kept = randomBytes(1400)
    const unsent = await captureMessage(h, 'messenger', [a, b])
    const other = await captureMessage(h, 'messenger', [kept])
    expect((await h.postWebhook(unsendMessage('messenger', { mid: unsent.mid }))).status).toBe(200)
    const tombstones = await h.mediaOf(unsent.mid)
    expect(tombstones).toHaveLength(2)
    for (const r of tombstones) {
      expect(r).toMatchObject({ status: 'deleted', source: { host: null } })
      expect(r.deleted_at).not.toBeNull()
      const content = await h.api(`/v1/media/${r.id}/content`)
      expect(content.status).toBe(410)
      expect(await content.json()).toMatchObject({ error: { code: 'deleted' } })
    }
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(a)))).toBeUndefined()
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(b)))).toBeUndefined()
    expect((await h.mediaOf(other.mid)).map((r) => r.status)).toEqual(['stored'])
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(kept)))).toBeDefined()
  })

  it('Instagram (is_deleted): erases a proxied media, which had no blob', async () => {
    const { mid } = await proxyMessage(h)
    expect((await h.postWebhook(unsendMessage('instagram', { mid }))).status).toBe(200)
    const [tombstone] = await h.mediaOf(mid)
    expect(tombstone).toMatchObject({ status: 'deleted', policy: 'proxy' })
    expect((await h.api(`/v1/media/${tombstone!.id}/content`)).status).toBe(410)
  })

  it('keeps a blob that another message shares', async () => {
    const bytes = randomBytes(2000)
    const first = await captureMessage(h, 'messenger', [bytes])
    const second = await captureMessage(h, 'messenger', [bytes])
    expect((await h.postWebhook(unsendMessage('messenger', { mid: first.mid }))).status).toBe(200)
    expect((await h.mediaOf(first.mid))[0]!.status).toBe('deleted')
    const content = await h.api(`/v1/media/${second.records[0]!.id}/content`)
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(bytes))
  })

  it('acknowledges an unsend of a message it never saw, and one delivered twice', async () => {
    const unknown = unsendMessage('messenger', { mid: 'm_never-seen' })
    expect((await h.postWebhook(unknown)).status).toBe(200)
    const { mid } = await captureMessage(h, 'messenger', [randomBytes(300)])
    const unsend = unsendMessage('messenger', { mid })
    expect((await h.postWebhook(unsend)).status).toBe(200)
    expect((await h.postWebhook(unsend)).status).toBe(200)
    expect((await h.mediaOf(mid))[0]!.status).toBe('deleted')
  })

  it('does not act on an unsend of another account', async () => {
    const { mid } = await captureMessage(h, 'messenger', [randomBytes(300)])
    expect((await h.postWebhook(unsendMessage('messenger', { mid, accountId: '999999999999999' }))).status).toBe(200)
    expect((await h.mediaOf(mid))[0]!.status).toBe('stored')
  })
})

/** An Instagram message under the proxy policy: recorded as remote. */
async function proxyMessage(h: Harness): Promise<{ mid: string }> {
  const media = h.emulator.addCdnMedia({ platform: 'instagram', bytes: randomBytes(900), mimeType: 'image/jpeg' })
  const payload = instagramMessage({ attachments: [{ type: 'image', url: media.url! }] })
  await h.postWebhook(payload)
  const mid = payload.entry[0]!.messaging[0]!.message!.mid as string
  expect((await h.mediaOf(mid))[0]!.status).toBe('remote')
  return { mid }
}

describe('with MEDIAGATE_HONOR_UNSEND=0', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ env: { MEDIAGATE_HONOR_UNSEND: '0' } })
  })
  afterAll(async () => h?.close())

  it('keeps the media of unsent messages', async () => {
    const bytes = randomBytes(800)
    const { mid, records } = await captureMessage(h, 'instagram', [bytes])
    expect((await h.postWebhook(unsendMessage('instagram', { mid }))).status).toBe(200)
    expect((await h.mediaOf(mid)).map((r) => r.status)).toEqual(['stored'])
    const content = await h.api(`/v1/media/${records[0]!.id}/content`)
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(bytes))
  })
})
