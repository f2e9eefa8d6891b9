/**
 * The emulator's upload endpoints answer as Meta does: types, limits and error codes, uploaded
 * ids resolvable until they expire 30 days later on the emulator's clock, and an upload counter.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'

let emulator: Emulator
let clock = Date.now()
beforeAll(async () => {
  emulator = await startEmulator({ accessToken: 'emu-token-0123456789', appSecret: 'emu-secret', extraAccessTokens: { page: 'page-token-0123' }, now: () => clock })
})
afterAll(() => emulator?.close())

function whatsapp(bytes: Buffer, type: string, token = emulator.accessToken): Promise<Response> {
  const form = new FormData()
  form.set('messaging_product', 'whatsapp')
  form.set('type', type)
  form.set('file', new Blob([bytes], { type }), 'file')
  return fetch(`${emulator.url}/v26.0/1234567/media`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } })
}

async function code(res: Response): Promise<number> {
  return ((await res.json()) as { error: { code: number } }).error.code
}

const oggHead = (codec: 'OpusHead' | '\x01vorbis') => Buffer.concat([Buffer.from('OggS'), Buffer.alloc(24), Buffer.from(codec, 'latin1'), randomBytes(500)])

describe('emulated uploads', () => {
  it('WhatsApp: uploads count, resolve by id, and expire after 30 days on the emulator clock', async () => {
    const before = emulator.stats().uploads
    const res = await whatsapp(randomBytes(1000), 'application/pdf')
    expect(res.status).toBe(200)
    const { id } = (await res.json()) as { id: string }
    expect(emulator.stats().uploads).toBe(before + 1)
    expect(emulator.stats().uploadsByAccount['whatsapp:1234567']).toBeGreaterThanOrEqual(1)
    const lookup = () => fetch(`${emulator.url}/v26.0/${id}`, { headers: { authorization: `Bearer ${emulator.accessToken}` } })
    expect((await lookup()).status).toBe(200)
    clock += 29 * 24 * 3600_000
    expect((await lookup()).status).toBe(200)
    clock += 2 * 24 * 3600_000
    expect((await lookup()).status).toBe(400)
  })

  it("refuses what Meta refuses: plain Ogg without Opus, a 6 MB PNG, an unknown type, a wrong token", async () => {
    const before = emulator.stats().uploads
    const vorbis = await whatsapp(oggHead('\x01vorbis'), 'audio/ogg')
    expect(vorbis.status).toBe(400)
    expect(await code(vorbis)).toBe(131053)
    expect((await whatsapp(oggHead('OpusHead'), 'audio/ogg')).status).toBe(200)
    const big = await whatsapp(randomBytes(6 * 1024 * 1024), 'image/png')
    expect(await code(big)).toBe(131053)
    expect(await code(await whatsapp(randomBytes(100), 'image/bmp'))).toBe(131053)
    const wrong = await whatsapp(randomBytes(100), 'image/png', 'not-a-token')
    expect(wrong.status).toBe(401)
    expect(await code(wrong)).toBe(190)
    expect(emulator.stats().uploads).toBe(before + 1)
  })

  it('Messenger and Instagram: reusable attachment ids; images over 8 MB refused', async () => {
    const upload = (bytes: Buffer, type: string, attachment: string, query = '') => {
      const form = new FormData()
      form.set('message', JSON.stringify({ attachment: { type: attachment, payload: { is_reusable: true } } }))
      form.set('filedata', new Blob([bytes], { type }), 'f')
      return fetch(`${emulator.url}/v26.0/999/message_attachments${query}`, { method: 'POST', body: form, headers: { authorization: 'Bearer page-token-0123' } })
    }
    const ok = await upload(randomBytes(1000), 'image/jpeg', 'image')
    expect(ok.status).toBe(200)
    expect((await ok.json()) as object).toHaveProperty('attachment_id')
    const ig = await upload(randomBytes(1000), 'application/pdf', 'file', '?platform=instagram')
    expect(ig.status).toBe(200)
    expect(emulator.stats().uploadsByAccount['instagram:999']).toBe(1)
    expect((await upload(randomBytes(9 * 1024 * 1024), 'image/png', 'image')).status).toBe(400)
  })
})
