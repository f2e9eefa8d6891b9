import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { getJson, TOKEN, useEmulator } from './fixture.js'

const DAY = 24 * 60 * 60 * 1000
const f = useEmulator()

describe('Graph media lookup', () => {
  it('answers the documented shape with a lookaside-style URL', async () => {
    const bytes = randomBytes(1234)
    const media = f.emu.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    const { status, body, headers } = await getJson(`${f.emu.url}/v26.0/${media.id}`, f.auth)
    expect(status).toBe(200)
    expect(headers.get('content-type')).toMatch(/^application\/json/)
    expect(Object.keys(body)).toEqual(['messaging_product', 'url', 'mime_type', 'sha256', 'file_size', 'id'])
    expect(body).toMatchObject({ messaging_product: 'whatsapp', mime_type: 'image/jpeg', file_size: 1234, id: media.id })
    expect(body.sha256).toBe(createHash('sha256').update(bytes).digest('base64'))
    const url = new URL(body.url)
    expect(url.origin).toBe(f.emu.url)
    expect(url.pathname).toBe('/whatsapp_business/attachments/')
    expect(url.searchParams.get('mid')).toBe(media.id)
    expect(url.searchParams.get('ext')).toMatch(/^\d+$/)
    expect(url.searchParams.get('hash')).toBeTruthy()
  })

  it('declares sha256 in hex or base64 and file_size as a string or a number, per media', async () => {
    const bytes = randomBytes(50)
    const hex = f.emu.addWhatsAppMedia({ bytes, mimeType: 'image/png', sha256Encoding: 'hex', fileSizeType: 'string' })
    const b64 = f.emu.addWhatsAppMedia({ bytes, mimeType: 'image/png', sha256Encoding: 'base64', fileSizeType: 'number' })
    const a = (await getJson(`${f.emu.url}/v26.0/${hex.id}`, f.auth)).body
    const b = (await getJson(`${f.emu.url}/v26.0/${b64.id}`, f.auth)).body
    const digest = createHash('sha256').update(bytes).digest()
    expect(a.sha256).toBe(digest.toString('hex'))
    expect(a.file_size).toBe('50')
    expect(b.sha256).toBe(digest.toString('base64'))
    expect(b.file_size).toBe(50)
    expect(hex.sha256).toBe(hex.sha256Hex)
    expect(b64.sha256).toBe(b64.sha256Base64)
  })

  it('accepts any /vNN.N/ prefix and the token as an access_token parameter', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    expect((await getJson(`${f.emu.url}/v21.0/${media.id}`, f.auth)).status).toBe(200)
    expect((await getJson(`${f.emu.url}/v99.0/${media.id}?access_token=${TOKEN}`)).status).toBe(200)
  })

  it('refuses a missing or wrong token with 401 and an OAuthException 190 envelope', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    for (const headers of [{}, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
      const { status, body } = await getJson(`${f.emu.url}/v26.0/${media.id}`, headers)
      expect(status).toBe(401)
      expect(body.error).toMatchObject({ type: 'OAuthException', code: 190 })
      expect(body.error.fbtrace_id).toMatch(/^[\w-]{11}$/)
      expect(JSON.stringify(body)).not.toContain(TOKEN)
    }
  })

  it('answers an unknown id with 400, GraphMethodException, code 100, subcode 33', async () => {
    const { status, body } = await getJson(`${f.emu.url}/v26.0/123456789`, f.auth)
    expect(status).toBe(400)
    expect(body.error).toMatchObject({
      message: "Unsupported get request. Object with ID '123456789' does not exist, cannot be loaded due to missing permissions, or does not support this operation",
      type: 'GraphMethodException',
      code: 100,
      error_subcode: 33,
    })
  })

  it('expires media ids after mediaIdTtlMs (7 days by default)', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    f.advance(7 * DAY - 1000)
    expect((await getJson(`${f.emu.url}/v26.0/${media.id}`, f.auth)).status).toBe(200)
    f.advance(1000)
    const { status, body } = await getJson(`${f.emu.url}/v26.0/${media.id}`, f.auth)
    expect(status).toBe(400)
    expect(body.error.code).toBe(100)
  })

  it('checks phone_number_id when the media has one', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg', phoneNumberId: '111' })
    expect((await getJson(`${f.emu.url}/v26.0/${media.id}?phone_number_id=111`, f.auth)).status).toBe(200)
    expect((await getJson(`${f.emu.url}/v26.0/${media.id}?phone_number_id=222`, f.auth)).status).toBe(400)
    expect((await getJson(`${f.emu.url}/v26.0/${media.id}`, f.auth)).status).toBe(200)
  })

  it('deletes media: {"success":true}, then the id no longer resolves', async () => {
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    const res = await fetch(`${f.emu.url}/v26.0/${media.id}`, { method: 'DELETE', headers: f.auth })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ success: true })
    expect((await getJson(`${f.emu.url}/v26.0/${media.id}`, f.auth)).status).toBe(400)
  })

  it('does not resolve Messenger CDN media ids through the WhatsApp lookup', async () => {
    const media = f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'image/jpeg' })
    expect((await getJson(`${f.emu.url}/v26.0/${media.id}`, f.auth)).status).toBe(400)
  })

  it('GET /me checks the token', async () => {
    const ok = await getJson(`${f.emu.url}/v26.0/me`, f.auth)
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ name: 'Emulated app' })
    expect(ok.body.id).toMatch(/^\d+$/)
    expect((await getJson(`${f.emu.url}/v26.0/me`, { authorization: 'Bearer wrong' })).status).toBe(401)
  })

  it('counts lookups per media and requests by route and status', async () => {
    f.emu.resetStats()
    const media = f.emu.addWhatsAppMedia({ size: 10, mimeType: 'image/jpeg' })
    await getJson(`${f.emu.url}/v26.0/${media.id}`, f.auth)
    await getJson(`${f.emu.url}/v26.0/${media.id}`, f.auth)
    await getJson(`${f.emu.url}/v26.0/${media.id}`)
    const stats = f.emu.stats()
    expect(stats.graphLookups).toBe(2)
    expect(stats.byMedia[media.id]?.lookups).toBe(2)
    expect(stats.requests['graph.lookup']).toEqual({ '200': 2, '401': 1 })
  })

  it('answers unknown paths with a Graph error, not a crash', async () => {
    const { status, body } = await getJson(`${f.emu.url}/nothing/here`, f.auth)
    expect(status).toBe(404)
    expect(body.error.code).toBe(2500)
  })
})
