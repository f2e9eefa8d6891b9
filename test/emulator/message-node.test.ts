/** Graph's Message node in the emulator: fresh URLs per attachment, Instagram's 20-message window, and who carried a token where. */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { getJson, useEmulator } from './fixture.js'

const f = useEmulator({ cdnTtlMs: 60_000 })

describe('Graph Message node', () => {
  it('lists the attachments of a Messenger message with freshly signed URLs, by type', async () => {
    const image = f.emu.addCdnMedia({ platform: 'messenger', bytes: randomBytes(100), mimeType: 'image/jpeg' })
    const video = f.emu.addCdnMedia({ platform: 'messenger', bytes: randomBytes(100), mimeType: 'video/mp4' })
    const file = f.emu.addCdnMedia({ platform: 'messenger', bytes: randomBytes(100), mimeType: 'application/pdf', filename: 'a.pdf' })
    const payload = f.emu.payloads.messengerMedia([image, video, file])
    const mid = payload.entry[0]!.messaging[0]!.message!.mid as string
    f.advance(120_000)
    expect((await fetch(image.url!)).status).toBe(403)
    const node = await getJson(`${f.emu.url}/v26.0/${encodeURIComponent(mid)}?fields=attachments`, f.auth)
    expect(node.status).toBe(200)
    const [a, b, c] = node.body.attachments.data
    expect(a).toMatchObject({ mime_type: 'image/jpeg', size: 100, image_data: { url: expect.any(String) } })
    expect(b.video_data.url).toEqual(expect.any(String))
    expect(c).toMatchObject({ mime_type: 'application/pdf', name: 'a.pdf', file_url: expect.any(String) })
    expect((await fetch(a.image_data.url)).status).toBe(200)
    const edge = await getJson(`${f.emu.url}/v26.0/${encodeURIComponent(mid)}/attachments`, f.auth)
    expect(edge.body.data).toHaveLength(3)
    expect((await getJson(`${f.emu.url}/v26.0/${encodeURIComponent(mid)}?fields=attachments`)).status).toBe(401)
    const stats = f.emu.stats()
    expect(stats.authorized['graph.message']).toBeGreaterThanOrEqual(2)
    expect(stats.authorized['cdn.messenger'] ?? 0).toBe(0)
  })

  it('Instagram: only the 20 most recent messages of a conversation answer; an older one is deleted', async () => {
    const mids: string[] = []
    for (let i = 0; i < 21; i++) {
      const media = f.emu.addCdnMedia({ platform: 'instagram', bytes: randomBytes(10), mimeType: 'image/jpeg' })
      mids.push(f.emu.payloads.instagramMedia(media, { igsid: '99887766' }).entry[0]!.messaging[0]!.message!.mid as string)
    }
    const oldest = await getJson(`${f.emu.url}/v26.0/${encodeURIComponent(mids[0]!)}?fields=attachments`, f.auth)
    expect(oldest.status).toBe(400)
    expect(oldest.body.error.message).toMatch(/20 most recent/)
    expect((await getJson(`${f.emu.url}/v26.0/${encodeURIComponent(mids[1]!)}?fields=attachments`, f.auth)).status).toBe(200)
  })

  it('a message posted without the bound builders is known once remembered', async () => {
    const media = f.emu.addCdnMedia({ platform: 'messenger', bytes: randomBytes(10), mimeType: 'image/png' })
    const payload = f.emu.payloads.messengerMessage({ attachments: [{ type: 'fallback' }, { type: 'image', url: media.url! }] })
    const mid = payload.entry[0]!.messaging[0]!.message!.mid as string
    expect((await getJson(`${f.emu.url}/v26.0/${encodeURIComponent(mid)}?fields=attachments`, f.auth)).status).toBe(400)
    f.emu.rememberMessages(payload)
    const node = await getJson(`${f.emu.url}/v26.0/${encodeURIComponent(mid)}?fields=attachments`, f.auth)
    expect(node.body.attachments.data[0]).toEqual({ id: 'att_0' })
    expect(node.body.attachments.data[1].image_data.url).toEqual(expect.any(String))
  })
})
