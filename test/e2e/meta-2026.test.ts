/**
 * Meta's 2026 contract end to end, over real HTTP against the emulator: WhatsApp senders known
 * only by their BSUID, Instagram stories proxied and never written to the blob store, expired
 * Messenger/Instagram CDN URLs re-fetched through Graph's Message node with the page token (which
 * the CDN never sees), No-Storage numbers' one-hour deadline, and erasure by sender.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { instagramMessage, messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { runCli } from '../helpers/run-cli.js'
import { parseProm, valueOf } from '../metrics/prom-text.js'

const HOUR = 60 * 60 * 1000
const PAGE = '1234567890123456'
const IG = '17841400000000000'
const NO_STORAGE_NUMBER = '106540352249999'
const PAGE_TOKEN = 'page-token-for-the-message-node-0123456789'
const BSUID = 'US.13491208655302741918'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const jpeg = (size: number) => Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(size), Buffer.from('ffd9', 'hex')])
const midOf = (p: { entry: { messaging?: { message?: Record<string, unknown> }[] }[] }) => p.entry[0]!.messaging![0]!.message!.mid as string
const wamidOf = (p: { entry: { changes: { value: { messages?: unknown[] } }[] }[] }) => (p.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id

/** The emulator's clock runs this much ahead of (or behind) the real one. */
let clockOffset = 0
let h: Harness
let configDir: string

/** Every file under the blob store's directory, temp files included. */
function blobFiles(): string[] {
  const root = path.join(h.dataDir, 'blobs')
  const found: string[] = []
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) (e.isDirectory() ? walk(path.join(dir, e.name), depth + 1) : found.push(path.join(dir, e.name)))
  }
  walk(root, 0)
  return found
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  return valueOf(parseProm(await (await h.api('/metrics')).text()), name, labels) ?? Number.NaN
}

beforeAll(async () => {
  configDir = await mkdtemp(path.join(tmpdir(), 'mediagate-meta2026-'))
  const configFile = path.join(configDir, 'mediagate.config.json')
  await writeFile(configFile, JSON.stringify({ whatsapp: { [NO_STORAGE_NUMBER]: { no_storage: true } }, pages: { [PAGE]: { access_token: PAGE_TOKEN }, [IG]: { access_token: PAGE_TOKEN } } }))
  h = await startHarness({ env: { MEDIAGATE_CONFIG_FILE: configFile }, emulator: { now: () => Date.now() + clockOffset, extraAccessTokens: { page: PAGE_TOKEN } } })
})
afterAll(async () => {
  await h?.close()
  if (configDir) await rm(configDir, { recursive: true, force: true })
})
afterEach(() => {
  clockOffset = 0
})

describe('WhatsApp senders by BSUID', () => {
  it('a user with a username and no phone number: sender_id is the BSUID, never null; ?sender= finds it by either id', async () => {
    const bytes = jpeg(3000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    const payload = whatsappMessage({ from: null, userId: BSUID, username: '@pablo', media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    expect((await h.postWebhook(payload)).status).toBe(200)
    const [m] = await h.mediaOf(wamidOf(payload))
    const [stored] = await h.settled([m!.id])
    expect(stored).toMatchObject({ status: 'stored', sender_id: BSUID, sender_user_id: BSUID, sha256: sha(bytes) })

    const withPhone = h.emulator.addWhatsAppMedia({ bytes: jpeg(100), mimeType: 'image/jpeg' })
    const second = whatsappMessage({ from: '16505550101', userId: BSUID, media: { type: 'image', id: withPhone.id, mime_type: 'image/jpeg', sha256: withPhone.sha256 } })
    await h.postWebhook(second)
    const [n] = await h.mediaOf(wamidOf(second))
    expect(n).toMatchObject({ sender_id: '16505550101', sender_user_id: BSUID })
    expect((await h.settled([n!.id]))[0]!.status).toBe('stored')
    const bySender = (await (await h.api(`/v1/media?sender=${encodeURIComponent(BSUID)}`)).json()) as { data: MediaJson[] }
    expect(bySender.data.map((x) => x.id).sort()).toEqual([m!.id, n!.id].sort())
    const byPhone = (await (await h.api('/v1/media?sender=16505550101')).json()) as { data: MediaJson[] }
    expect(byPhone.data.map((x) => x.id)).toEqual([n!.id])
  })
})

describe('Instagram stories under MEDIAGATE_POLICY_INSTAGRAM_STORY (default proxy)', () => {
  it.each(['story_mention', 'ig_story'])('%s: remote, streamed from the CDN, nothing in the blob store, 410 once the URL expired', async (type) => {
    const bytes = jpeg(50_000)
    const before = blobFiles()
    const media = h.emulator.addCdnMedia({ platform: 'instagram', bytes, mimeType: 'image/jpeg', ttlMs: HOUR })
    const payload = instagramMessage({ igId: '17841400000000001', attachments: [{ type, url: media.url! }] })
    expect((await h.postWebhook(payload)).status).toBe(200)
    const [m] = await h.mediaOf(midOf(payload))
    expect(m).toMatchObject({ status: 'remote', policy: 'proxy', kind: 'story', source_type: type })
    const content = await h.api(`/v1/media/${m!.id}/content`)
    expect(content.status).toBe(200)
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(bytes))
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytes)))).toBeUndefined()
    expect(blobFiles()).toEqual(before)
    expect((await (await h.api(`/v1/media/${m!.id}`)).json()) as MediaJson).toMatchObject({ status: 'remote', sha256: sha(bytes) })

    clockOffset = 2 * HOUR
    const gone = await h.api(`/v1/media/${m!.id}/content`)
    expect(gone.status).toBe(410)
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('source_expired')
    expect(blobFiles()).toEqual(before)
  })

  it('other Instagram media stay under MEDIAGATE_POLICY_INSTAGRAM (eager here)', async () => {
    const media = h.emulator.addCdnMedia({ platform: 'instagram', bytes: jpeg(100), mimeType: 'image/jpeg' })
    const payload = instagramMessage({ attachments: [{ type: 'image', url: media.url! }] })
    await h.postWebhook(payload)
    const [m] = await h.mediaOf(midOf(payload))
    expect((await h.settled([m!.id]))[0]).toMatchObject({ status: 'stored', policy: 'eager' })
  })
})

describe('2026 attachment types', () => {
  it('sticker, reel, ig_reel, ig_post (with its id and title) and unsupported_type are captured; appointment_booking and fallback make no record and no error', async () => {
    const add = () => h.emulator.addCdnMedia({ platform: 'messenger', bytes: jpeg(500), mimeType: 'image/jpeg' })
    const [sticker, reel, igReel] = [add(), add(), add()]
    const messenger = messengerMessage({
      attachments: [{ type: 'sticker', url: sticker.url!, sticker_id: 369239263222822 }, { type: 'reel', url: reel.url! }, { type: 'ig_reel', url: igReel.url! }, { type: 'appointment_booking' }, { type: 'fallback', title: 'Attachment Unavailable' }],
    })
    expect((await h.postWebhook(messenger)).status).toBe(200)
    const fromMessenger = await h.mediaOf(midOf(messenger))
    const settled = await h.settled(fromMessenger.map((m) => m.id))
    expect(settled.map((m) => [m.source_type, m.kind, m.attachment_index, m.status]).sort()).toEqual([
      ['ig_reel', 'video', 2, 'stored'],
      ['reel', 'video', 1, 'stored'],
      ['sticker', 'sticker', 0, 'stored'],
    ])

    const post = h.emulator.addCdnMedia({ platform: 'instagram', bytes: jpeg(500), mimeType: 'image/jpeg' })
    const odd = h.emulator.addCdnMedia({ platform: 'instagram', bytes: jpeg(500), mimeType: 'image/jpeg' })
    const instagram = instagramMessage({ attachments: [{ type: 'ig_post', url: post.url!, title: 'Autumn', ig_post_media_id: '18045678901234567' }, { type: 'unsupported_type', url: odd.url! }, { type: 'unsupported_type', payload: {} }] })
    expect((await h.postWebhook(instagram)).status).toBe(200)
    const fromInstagram = await h.settled((await h.mediaOf(midOf(instagram))).map((m) => m.id))
    const byType = Object.fromEntries(fromInstagram.map((m) => [m.source_type, m]))
    expect(fromInstagram).toHaveLength(2)
    expect(byType.ig_post).toMatchObject({ kind: 'share', status: 'stored', ig_post_media_id: '18045678901234567', title: 'Autumn' })
    // Instagram could not say what it was; the bytes do.
    expect(byType.unsupported_type).toMatchObject({ status: 'stored', kind: 'image', sniffed_mime_type: 'image/jpeg', mime_type: 'image/jpeg' })
  })
})

describe('re-fetching expired Messenger and Instagram media through Graph', () => {
  /** A CDN URL signed two hours ago that lived one hour: expired before the webhook arrives. */
  function expiredCdnMedia(platform: 'messenger' | 'instagram', bytes: Buffer) {
    clockOffset = -2 * HOUR
    const media = h.emulator.addCdnMedia({ platform, bytes, mimeType: 'image/jpeg', ttlMs: HOUR })
    clockOffset = 0
    return media
  }

  it('Messenger: the CDN refuses the URL, the Message node gives a fresh one, the bytes are stored; the token reached Graph only', async () => {
    const missedBefore = await metric('mediagate_deadline_missed_total', { platform: 'messenger' })
    const authorizedCdnBefore = h.emulator.stats().authorized['cdn.messenger'] ?? 0
    const bytes = jpeg(20_000)
    const other = h.emulator.addCdnMedia({ platform: 'messenger', bytes: jpeg(10), mimeType: 'image/jpeg' })
    const media = expiredCdnMedia('messenger', bytes)
    const payload = h.emulator.payloads.messengerMedia([other, media], { pageId: PAGE })
    expect((await h.postWebhook(payload)).status).toBe(200)
    const records = await h.mediaOf(midOf(payload))
    const target = records.find((r) => r.attachment_index === 1)!
    const [stored] = await h.settled([target.id])
    expect(stored).toMatchObject({ status: 'stored', sha256: sha(bytes), size: bytes.length })
    expect(stored!.source.refetched_at).not.toBeNull()
    expect(Date.parse(stored!.capture_deadline!)).toBeLessThan(Date.now())
    const content = await h.api(`/v1/media/${stored!.id}/content`)
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(bytes))

    const stats = h.emulator.stats()
    expect(stats.requests['cdn.messenger']?.['403']).toBeGreaterThanOrEqual(1)
    expect(stats.authorized['graph.message']).toBeGreaterThanOrEqual(1)
    expect(stats.byMedia[media.id]?.tokens.page).toBeGreaterThanOrEqual(1)
    expect(stats.authorized['cdn.messenger'] ?? 0).toBe(authorizedCdnBefore)
    expect(stats.authorized['cdn.messenger'] ?? 0).toBe(0)
    // Still pending when its URL's `oe` passed: a missed deadline, recovered.
    expect(await metric('mediagate_deadline_missed_total', { platform: 'messenger' })).toBe(missedBefore + 1)
  })

  it('no token for the page: failed with source_expired, and Graph is never asked', async () => {
    const media = expiredCdnMedia('messenger', jpeg(100))
    const graphBefore = h.emulator.stats().requests['graph.message'] ?? {}
    const payload = h.emulator.payloads.messengerMedia(media, { pageId: '1234567890999999' })
    await h.postWebhook(payload)
    const [m] = await h.mediaOf(midOf(payload))
    const [failed] = await h.settled([m!.id])
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'source_expired' } })
    expect(failed!.source.refetched_at).toBeNull()
    expect(h.emulator.stats().requests['graph.message'] ?? {}).toEqual(graphBefore)
  })

  it('Instagram: a message older than the 20 most recent of its conversation stays failed with source_expired; a recent one is recovered', async () => {
    const old = expiredCdnMedia('instagram', jpeg(100))
    // The record lands first and fails; its conversation then moves on by twenty messages.
    const oldPayload = h.emulator.payloads.instagramMedia(old, { igId: IG, igsid: '5550001' })
    const later = Array.from({ length: 20 }, () => h.emulator.payloads.instagramMedia(h.emulator.addCdnMedia({ platform: 'instagram', bytes: jpeg(10), mimeType: 'image/jpeg' }), { igId: IG, igsid: '5550001' }))
    expect(later).toHaveLength(20)
    await h.postWebhook(oldPayload)
    const [m] = await h.mediaOf(midOf(oldPayload))
    const [failed] = await h.settled([m!.id])
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'source_expired' } })
    expect(failed!.error!.message).toMatch(/Message node/)

    const bytes = jpeg(700)
    const recent = expiredCdnMedia('instagram', bytes)
    const recentPayload = h.emulator.payloads.instagramMedia(recent, { igId: IG, igsid: '5550002' })
    await h.postWebhook(recentPayload)
    const [r] = await h.mediaOf(midOf(recentPayload))
    expect((await h.settled([r!.id]))[0]).toMatchObject({ status: 'stored', sha256: sha(bytes) })
    expect(h.emulator.stats().authorized['cdn.instagram'] ?? 0).toBe(0)
  })
})

describe('capture deadlines', () => {
  it('a No-Storage number: capture_deadline one hour after receipt; other numbers 7 days; Messenger from the URL oe', async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: jpeg(100), mimeType: 'image/jpeg', phoneNumberId: NO_STORAGE_NUMBER })
    const payload = whatsappMessage({ phoneNumberId: NO_STORAGE_NUMBER, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    await h.postWebhook(payload)
    const [m] = await h.mediaOf(wamidOf(payload))
    expect(Date.parse(m!.capture_deadline!) - Date.parse(m!.received_at)).toBe(HOUR)
    expect(m!.source.expires_at).toBe(m!.capture_deadline)
    expect((await h.settled([m!.id]))[0]!.status).toBe('stored')

    const normal = h.emulator.addWhatsAppMedia({ bytes: jpeg(100), mimeType: 'image/jpeg' })
    const normalPayload = whatsappMessage({ media: { type: 'image', id: normal.id, mime_type: 'image/jpeg', sha256: normal.sha256 } })
    await h.postWebhook(normalPayload)
    const [n] = await h.mediaOf(wamidOf(normalPayload))
    expect(Date.parse(n!.capture_deadline!) - Date.parse(n!.received_at)).toBe(7 * 24 * HOUR)

    const cdn = h.emulator.addCdnMedia({ platform: 'messenger', bytes: jpeg(100), mimeType: 'image/jpeg', ttlMs: 3 * HOUR })
    const cdnPayload = messengerMessage({ attachments: [{ type: 'image', url: cdn.url! }] })
    await h.postWebhook(cdnPayload)
    const [c] = await h.mediaOf(midOf(cdnPayload))
    const oe = Number.parseInt(new URL(cdn.url!).searchParams.get('oe')!, 16) * 1000
    expect(Date.parse(c!.capture_deadline!)).toBe(oe)
  })
})

describe('warnings near a capture deadline', () => {
  it('a No-Storage media that keeps failing: /v1/stats counts it near its deadline and doctor warns; it is stored once Meta answers again', async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: jpeg(100), mimeType: 'image/jpeg', phoneNumberId: NO_STORAGE_NUMBER })
    h.emulator.setFaults(media.id, { lookupStatus: 503 })
    try {
      const payload = whatsappMessage({ phoneNumberId: NO_STORAGE_NUMBER, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
      await h.postWebhook(payload)
      const [m] = await h.mediaOf(wamidOf(payload))
      expect(m!.status).toBe('pending')
      // The queue figures are cached for 2 s (stats-cache.ts): ask until a fresh reading comes.
      let stats = { near_deadline: { count: 0, earliest: null as string | null } }
      for (let i = 0; i < 40 && stats.near_deadline.count === 0; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 250))
        stats = (await (await h.api('/v1/stats')).json()) as typeof stats
      }
      expect(stats.near_deadline.count).toBeGreaterThanOrEqual(1)
      expect(Date.parse(stats.near_deadline.earliest!)).toBeLessThanOrEqual(Date.parse(m!.capture_deadline!))
      const doctor = await runCli(
        ['doctor'],
        {
          MEDIAGATE_DATA_DIR: h.dataDir,
          MEDIAGATE_CONFIG_FILE: path.join(configDir, 'mediagate.config.json'),
          META_APP_SECRET: h.emulator.appSecret,
          META_VERIFY_TOKEN: 'verify',
          WHATSAPP_ACCESS_TOKEN: h.emulator.accessToken,
          META_GRAPH_URL: h.emulator.url,
          MEDIAGATE_API_KEY: API_KEY,
          MEDIAGATE_ALLOWED_HOSTS: '127.0.0.1',
        },
        60_000,
      )
      expect(doctor.stdout).toMatch(/WARN.*catalog.*pending media are within an hour of their capture deadline/)
      expect(doctor.stdout).toMatch(/1 No-Storage number/)
      h.emulator.clearFaults()
      expect((await h.settled([m!.id]))[0]!.status).toBe('stored')
    } finally {
      h.emulator.clearFaults()
    }
  })
})

describe('erasure by sender', () => {
  it('POST /v1/erasures erases every media of one person (by BSUID or phone), blobs included; again it erases nothing', async () => {
    const person = 'US.55500011122233344455'
    const bytesA = jpeg(1000)
    const bytesB = jpeg(1000)
    const a = h.emulator.addWhatsAppMedia({ bytes: bytesA, mimeType: 'image/jpeg' })
    const b = h.emulator.addWhatsAppMedia({ bytes: bytesB, mimeType: 'image/jpeg' })
    const keep = h.emulator.addWhatsAppMedia({ bytes: jpeg(1000), mimeType: 'image/jpeg' })
    const pa = whatsappMessage({ from: null, userId: person, media: { type: 'image', id: a.id, mime_type: 'image/jpeg', sha256: a.sha256 } })
    const pb = whatsappMessage({ from: '16505550199', userId: person, media: { type: 'image', id: b.id, mime_type: 'image/jpeg', sha256: b.sha256 } })
    const pk = whatsappMessage({ from: '16505550200', media: { type: 'image', id: keep.id, mime_type: 'image/jpeg', sha256: keep.sha256 } })
    for (const p of [pa, pb, pk]) expect((await h.postWebhook(p)).status).toBe(200)
    const ids = (await Promise.all([pa, pb, pk].map(async (p) => (await h.mediaOf(wamidOf(p)))[0]!.id)))
    await h.settled(ids)
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytesA)))).toBeDefined()

    const post = (body: unknown) => h.api('/v1/erasures', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const res = await post({ sender: person, platform: 'whatsapp' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ erased: 2 })
    const after = await Promise.all(ids.map(async (id) => (await (await h.api(`/v1/media/${id}`)).json()) as MediaJson))
    expect(after.map((m) => m.status)).toEqual(['deleted', 'deleted', 'stored'])
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytesA)))).toBeUndefined()
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytesB)))).toBeUndefined()
    expect((await h.api(`/v1/media/${ids[0]}/content`)).status).toBe(410)

    expect(await (await post({ sender: person })).json()).toEqual({ erased: 0 })
    expect((await post({ sender: '' })).status).toBe(400)
    expect((await post({ sender: person, platform: 'telegram' })).status).toBe(400)
    expect((await post({ who: person })).status).toBe(400)
    expect((await fetch(`${h.gateway.url}/v1/erasures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender: person }) })).status).toBe(401)
  })
})
