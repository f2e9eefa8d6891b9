/**
 * Idle engines are woken by the catalog's job signals, not found by their poll: in a gateway whose
 * engines poll once a minute, a webhook's media and a retried media are captured at once. The
 * signal of the catalog method that queued the work is the only wake (job-signals.ts).
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

describe('job signals wake idle engines', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ pollMs: 60_000, env: { MEDIAGATE_IDLE_POLL_MAX_MS: '60000' } })
    // Once this is stored, the capture engine sleeps its one-minute poll: what follows needs a wake.
    await h.storedWhatsApp(randomBytes(1000), { type: 'document', mimeType: 'application/pdf' })
  })
  afterAll(() => h?.close())

  it("captures a webhook's media at once", async () => {
    const stored = await h.storedWhatsApp(randomBytes(2000), { type: 'document', mimeType: 'application/pdf' })
    expect(stored.status).toBe('stored')
  })

  it('captures a media retried through the API at once', async () => {
    const bytes = randomBytes(3000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'application/pdf' })
    h.emulator.setFaults(media.id, { graphErrorCode: 190 })
    const posted = await h.postWebhook(whatsappMessage({ media: { type: 'document', id: media.id, mime_type: 'application/pdf', sha256: media.sha256 } }))
    expect(posted.status).toBe(200)
    const record = await recordOf(media.id)
    const [failed] = await h.settled([record.id])
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'auth' } })

    h.emulator.clearFaults()
    expect((await h.api(`/v1/media/${record.id}/retry`, { method: 'POST' })).status).toBe(202)
    const [retried] = await h.settled([record.id])
    expect(retried).toMatchObject({ status: 'stored', sha256: createHash('sha256').update(bytes).digest('hex') })
  })

  /** The gateway's record of the WhatsApp media `mediaId`. */
  async function recordOf(mediaId: string): Promise<MediaJson> {
    const list = (await (await h.api('/v1/media?limit=100')).json()) as { data: MediaJson[] }
    const found = list.data.find((m) => m.source.media_id === mediaId)
    if (!found) throw new Error(`no record of media ${mediaId}`)
    return found
  }
})
