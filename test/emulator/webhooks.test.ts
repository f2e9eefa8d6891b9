import { createHash, createHmac } from 'node:crypto'
import { type IncomingHttpHeaders, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileTypeFromBuffer } from 'file-type'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SECRET, getJson, useEmulator } from './fixture.js'

interface Received {
  headers: IncomingHttpHeaders
  body: Buffer
}

/** A plain node:http webhook receiver that records raw bodies; answers with `reply`. */
const received: Received[] = []
let reply = { status: 200, body: 'EVENT_RECEIVED' }
let target = ''
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks) })
    res.writeHead(reply.status, { 'content-type': 'text/plain' })
    res.end(reply.body)
  })
})
beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/meta`
})
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())))
beforeEach(() => {
  received.length = 0
  reply = { status: 200, body: 'EVENT_RECEIVED' }
})

const f = useEmulator()
const hmac = (body: Buffer, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

async function control(path: string, method = 'GET', body?: unknown) {
  const res = await fetch(`${f.emu.url}/_emulator${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
  return { status: res.status, body: (await res.json()) as any }
}

describe('webhook sender', () => {
  it('posts the signed raw bytes, Meta-escaped, with the legacy SHA-1 header too', async () => {
    const media = f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'image/jpeg' })
    const result = await f.emu.sendWebhook(f.emu.payloads.messengerMedia(media), { target })
    expect(result).toEqual({ status: 200, body: 'EVENT_RECEIVED' })
    const got = received[0]!
    expect(got.headers['x-hub-signature-256']).toBe(hmac(got.body))
    expect(got.headers['x-hub-signature']).toBe(`sha1=${createHmac('sha1', SECRET).update(got.body).digest('hex')}`)
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.headers['user-agent']).toBe('facebookexternalua')
    expect(got.body.toString()).toContain('http:\\/\\/127.0.0.1')
    expect(JSON.parse(got.body.toString()).entry[0].messaging[0].message.attachments[0].payload.url).toBe(media.url)
  })

  it('sends a Buffer verbatim, unsigned when secret is null, or with an overridden signature', async () => {
    const raw = Buffer.from('{"object":"page","entry":[]}')
    await f.emu.sendWebhook(raw, { target, secret: null })
    await f.emu.sendWebhook(raw, { target, signatureOverride: 'sha256=deadbeef' })
    await f.emu.sendWebhook(raw, { target, secret: 'another-secret' })
    expect(received[0]!.body.equals(raw)).toBe(true)
    expect(received[0]!.headers['x-hub-signature-256']).toBeUndefined()
    expect(received[1]!.headers['x-hub-signature-256']).toBe('sha256=deadbeef')
    expect(received[2]!.headers['x-hub-signature-256']).toBe(hmac(raw, 'another-secret'))
  })

  it("returns the receiver's status and body, and counts webhooks sent", async () => {
    reply = { status: 503, body: 'busy' }
    const before = f.emu.stats().webhooksSent
    expect(await f.emu.sendWebhook({ object: 'page', entry: [] }, { target })).toEqual({ status: 503, body: 'busy' })
    expect(f.emu.stats().webhooksSent).toBe(before + 1)
  })

  it('fails with a network error (no secret in it) when the target is down, and without a target', async () => {
    await expect(f.emu.sendWebhook({}, { target: 'http://127.0.0.1:9/hook?token=s3cr3t' })).rejects.toMatchObject({ code: 'network', message: expect.not.stringContaining('s3cr3t') })
    await expect(f.emu.sendWebhook({})).rejects.toMatchObject({ code: 'bad_request' })
  })
})

describe('control API', () => {
  it('POST /send (whatsapp image): a real JPEG whose hash the signed webhook declares', async () => {
    const { status, body } = await control('/send', 'POST', { platform: 'whatsapp', kind: 'image', target })
    expect(status).toBe(200)
    expect(body).toMatchObject({ platform: 'whatsapp', kind: 'image', status: 200, body: 'EVENT_RECEIVED' })
    const got = received[0]!
    expect(got.headers['x-hub-signature-256']).toBe(hmac(got.body))
    const message = JSON.parse(got.body.toString()).entry[0].changes[0].value.messages[0]
    expect(message.id).toBe(body.message_id)
    expect(message.image.id).toBe(body.media_id)

    const lookup = await getJson(`${f.emu.url}/v26.0/${body.media_id}`, f.auth)
    const bytes = Buffer.from(await (await fetch(lookup.body.url, { headers: f.auth })).arrayBuffer())
    expect(await fileTypeFromBuffer(bytes)).toMatchObject({ mime: 'image/jpeg' })
    expect(createHash('sha256').update(bytes).digest('base64')).toBe(message.image.sha256)
  })

  it('POST /send covers voice notes, Messenger sticker twins and Instagram story mentions', async () => {
    await control('/send', 'POST', { platform: 'whatsapp', kind: 'voice', target })
    await control('/send', 'POST', { platform: 'messenger', kind: 'sticker', target })
    const story = await control('/send', 'POST', { platform: 'instagram', kind: 'story_mention', target })
    const [voice, sticker, mention] = received.map((r) => JSON.parse(r.body.toString()))
    expect(voice.entry[0].changes[0].value.messages[0].audio).toMatchObject({ voice: true, mime_type: 'audio/ogg; codecs=opus' })
    expect(sticker.entry[0].messaging[0].message.attachments.map((a: { type: string }) => a.type)).toEqual(['image', 'sticker'])
    expect(mention.object).toBe('instagram')
    expect(mention.entry[0].messaging[0].message.attachments[0]).toEqual({ type: 'story_mention', payload: { url: story.body.url } })
    const bytes = Buffer.from(await (await fetch(story.body.url)).arrayBuffer())
    expect(await fileTypeFromBuffer(bytes)).toMatchObject({ mime: 'image/jpeg' })
  })

  it('POST /send covers the 2026 types: a lone sticker, ig_post with its id and title, ig_story, unsupported_type, and the Message node knows them', async () => {
    const sent = []
    for (const [platform, kind] of [['messenger', 'sticker_only'], ['instagram', 'ig_post'], ['instagram', 'ig_story'], ['instagram', 'unsupported_type'], ['instagram', 'sticker']] as const) {
      const res = await control('/send', 'POST', { platform, kind, target })
      expect(res.status, `${platform} ${kind}`).toBe(200)
      sent.push(res.body)
    }
    const attachments = received.map((r) => JSON.parse(r.body.toString()).entry[0].messaging[0].message.attachments)
    expect(attachments.map((a: { type: string }[]) => a.map((x) => x.type))).toEqual([['sticker'], ['ig_post'], ['ig_story'], ['unsupported_type'], ['sticker']])
    expect(attachments[1][0].payload).toMatchObject({ ig_post_media_id: '18045678901234567', title: 'A shared post' })
    const node = await getJson(`${f.emu.url}/v26.0/${encodeURIComponent(sent[2].message_id)}?fields=attachments`, f.auth)
    expect(node.body.attachments.data[0].image_data.url).toEqual(expect.any(String))
  })

  it('POST /send rejects unknown platforms and kinds, and a missing target', async () => {
    expect((await control('/send', 'POST', { platform: 'telegram', kind: 'image', target })).status).toBe(400)
    const bad = await control('/send', 'POST', { platform: 'whatsapp', kind: 'hologram', target })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('image')
    expect((await control('/send', 'POST', { platform: 'whatsapp', kind: 'image' })).status).toBe(400)
  })

  it('sets and clears faults, registers media and reports stats', async () => {
    const created = await control('/media', 'POST', { platform: 'whatsapp', mimeType: 'video/mp4', size: 2048, sha256Encoding: 'hex' })
    expect(created.status).toBe(201)
    const id = created.body.id as string
    expect(created.body.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect((await control(`/media/${id}`)).body.size).toBe(2048)
    expect((await control('/media/nope')).status).toBe(404)

    expect((await control('/faults', 'POST', { media: id, faults: { lookupStatus: 503, times: 1 } })).status).toBe(200)
    expect((await control('/faults')).body[id]).toEqual({ lookupStatus: 503, times: 1 })
    expect((await getJson(`${f.emu.url}/v26.0/${id}`, f.auth)).status).toBe(503)
    expect((await getJson(`${f.emu.url}/v26.0/${id}`, f.auth)).status).toBe(200)
    expect((await control('/faults', 'POST', { faults: { rate: 7 } })).status).toBe(400)
    await control('/faults', 'DELETE')
    expect((await control('/faults')).body).toEqual({})

    const stats = await control('/stats')
    expect(stats.body.byMedia[id].lookups).toBe(2)
    expect(stats.body.requests['graph.lookup']['503']).toBeGreaterThanOrEqual(1)
    expect((await control('/stats', 'DELETE')).body.graphLookups).toBe(0)
  })

  it('answers malformed JSON with 400 and unknown routes with 404', async () => {
    const res = await fetch(`${f.emu.url}/_emulator/send`, { method: 'POST', body: '{nope' })
    expect(res.status).toBe(400)
    expect((await control('/nothing')).status).toBe(404)
  })
})
