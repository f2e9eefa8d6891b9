/**
 * Fault soak: a few hundred media while the emulator injects, at a chosen rate, every fault it
 * knows (5xx, 429 with Retry-After, resets and truncation mid-body, stalls past the timeout,
 * wrong hashes, expired URLs, Graph throttling codes). Afterwards nothing is `pending`, every
 * record is `stored` with the exact bytes or `failed` with a reason that matches its fault.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FaultSpec } from '../../src/emulator/index.js'
import { messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const MEDIA = 200
const FAULT_RATE = 0.5

let h: Harness
beforeAll(async () => {
  h = await startHarness({ env: { MEDIAGATE_RETRY_WINDOW: '15s', MEDIAGATE_CONCURRENCY: '16', MEDIAGATE_DOWNLOAD_TIMEOUT_MS: '1000' } })
})
afterAll(async () => h?.close())

/** Faults that a retry overcomes (they hit the first attempts only) and what a permanent one yields. */
const TRANSIENT: FaultSpec[] = [
  { lookupStatus: 503, times: 2 },
  { downloadStatus: 500, times: 2 },
  { lookupStatus: 429, retryAfterSeconds: 0, times: 1 },
  { graphErrorCode: 130429, times: 1 },
  { graphErrorCode: 80007, times: 1 },
  { resetMidBody: true, times: 2 },
  { truncate: true, times: 2 },
  { stallMs: 3_000, times: 1 },
]
const PERMANENT: [FaultSpec, string][] = [
  [{ wrongHash: true }, 'integrity'],
  [{ expired: true }, 'source_expired'],
  [{ downloadStatus: 503 }, 'upstream'],
]

describe('fault soak', () => {
  it('ends with every media stored exactly or failed with its reason', { timeout: 120_000 }, async () => {
    let seed = 7
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
    const expected = new Map<string, { sha256: string; failWith: string | null }>()
    for (let i = 0; i < MEDIA; i++) {
      const bytes = randomBytes(5_000 + Math.floor(random() * 60_000))
      const whatsapp = i % 2 === 0
      const media = whatsapp
        ? h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
        : h.emulator.addCdnMedia({ platform: 'instagram', bytes, mimeType: 'image/jpeg' })
      let failWith: string | null = null
      if (random() < FAULT_RATE) {
        if (random() < 0.8) {
          const candidates = TRANSIENT.filter((f) => whatsapp || (f.lookupStatus === undefined && f.graphErrorCode === undefined))
          h.emulator.setFaults(media.id, candidates[Math.floor(random() * candidates.length)]!)
        } else {
          const candidates = PERMANENT.filter(([f]) => whatsapp || !f.wrongHash)
          const [fault, code] = candidates[Math.floor(random() * candidates.length)]!
          h.emulator.setFaults(media.id, fault)
          failWith = code
        }
      }
      const mid = whatsapp ? `wamid.soak${i}` : `ig_soak_${i}`
      const payload = whatsapp
        ? whatsappMessage({ wamid: mid, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
        : messengerMessage({ mid, attachments: [{ type: 'image', url: media.url! }] })
      expect((await h.postWebhook(payload)).status).toBe(200)
      expected.set(mid, { sha256: createHash('sha256').update(bytes).digest('hex'), failWith })
    }

    const deadline = Date.now() + 100_000
    let records: MediaJson[] = []
    for (;;) {
      records = ((await (await h.api('/v1/media?limit=1000')).json()) as { data: MediaJson[] }).data
      if (!records.some((r) => r.status === 'pending') || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(records).toHaveLength(MEDIA)
    expect(records.filter((r) => r.status === 'pending')).toEqual([])
    for (const record of records) {
      const want = expected.get(record.message_id)!
      if (want.failWith) {
        expect(record.status, record.message_id).toBe('failed')
        expect(record.error?.code, record.message_id).toBe(want.failWith)
        expect(record.error?.message.length).toBeGreaterThan(0)
      } else {
        expect(record.status, `${record.message_id}: ${JSON.stringify(record.error)}`).toBe('stored')
        expect(record.sha256).toBe(want.sha256)
      }
    }
  })
})
