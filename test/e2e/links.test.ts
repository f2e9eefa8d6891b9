/**
 * Signed links over real HTTP: issued with the API key, used without it, serving the same
 * content (Range, ETag, 304) until they expire; altered, expired or wrongly keyed links are 403.
 * Keys rotate through MEDIAGATE_SIGNING_SECRET; without it the key is derived from the API key.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { instagramMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { LinkSigner, linkKeys } from '../../src/serve/signed-links.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(30_000), Buffer.from('ffd9', 'hex')])
const NEW_KEY = 'new-signing-key-0123456789'
const OLD_KEY = 'old-signing-key-9876543210'

async function issue(h: Harness, id: string, body?: unknown): Promise<Response> {
  return h.api(`/v1/media/${id}/links`, {
    method: 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
}

describe('signed links (key derived from the API key)', () => {
  let h: Harness
  let media: MediaJson
  beforeAll(async () => {
    h = await startHarness()
    media = await h.storedWhatsApp(JPEG, { type: 'image', mimeType: 'image/jpeg' })
  })
  afterAll(async () => h?.close())

  it('issues a link valid for an hour by default, which serves the content without the API key', async () => {
    const before = Date.now()
    const res = await issue(h, media.id)
    expect(res.status).toBe(201)
    const link = (await res.json()) as { url: string; expires_at: string }
    expect(link.url.startsWith(`${h.gateway.url}/v1/links/${media.id}/content?`)).toBe(true)
    const lifetime = Date.parse(link.expires_at) - before
    expect(lifetime).toBeGreaterThan(3590_000)
    expect(lifetime).toBeLessThanOrEqual(3600_000)

    const content = await fetch(link.url)
    expect(content.status).toBe(200)
    expect(content.headers.get('etag')).toBe(`"${sha(JPEG)}"`)
    expect(content.headers.get('content-type')).toBe('image/jpeg')
    expect(content.headers.get('referrer-policy')).toBe('no-referrer')
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(JPEG))
    const range = await fetch(link.url, { headers: { range: 'bytes=10-19' } })
    expect(range.status).toBe(206)
    expect(Buffer.compare(Buffer.from(await range.arrayBuffer()), JPEG.subarray(10, 20))).toBe(0)
    expect((await fetch(link.url, { headers: { 'if-none-match': `"${sha(JPEG)}"` } })).status).toBe(304)
  })

  it('takes expires_in up to 7 days and refuses anything else with 400', async () => {
    const res = await issue(h, media.id, { expires_in: 7 * 24 * 3600 })
    expect(res.status).toBe(201)
    const { expires_at } = (await res.json()) as { expires_at: string }
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(7 * 24 * 3600_000 - 5000)
    for (const expires_in of [0, -5, 7 * 24 * 3600 + 1, 1.5, '60', null]) {
      const bad = await issue(h, media.id, { expires_in })
      expect(bad.status, JSON.stringify(expires_in)).toBe(400)
      expect(await bad.json()).toMatchObject({ error: { code: 'bad_request' } })
    }
    expect((await issue(h, media.id, [1])).status).toBe(400)
  })

  it('needs the API key to issue, and a known media id', async () => {
    const anonymous = await fetch(`${h.gateway.url}/v1/media/${media.id}/links`, { method: 'POST' })
    expect(anonymous.status).toBe(401)
    expect((await issue(h, 'med_00000000000000000000000000')).status).toBe(404)
  })

  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

  it('refuses altered links with 403, before looking at the media', async () => {
    const { url } = (await (await issue(h, media.id)).json()) as { url: string }
    const u = new URL(url)
    const sig = u.searchParams.get('sig')!
    const exp = u.searchParams.get('exp')!
    const other = await h.storedWhatsApp(randomBytes(500), { type: 'image', mimeType: 'image/jpeg' })
    const variants = [
      url.replace(`sig=${sig}`, `sig=${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`),
      // Same decoded bytes, another spelling: the last character's two unused bits flipped.
      url.replace(`sig=${sig}`, `sig=${sig.slice(0, -1)}${B64URL[B64URL.indexOf(sig.at(-1)!) ^ 1]}`),
      url.replace(`exp=${exp}`, `exp=${Number(exp) + 3600}`),
      url.replace(media.id, other.id),
      url.replace(media.id, 'med_00000000000000000000000000'),
      url.replace(`&sig=${sig}`, ''),
      url.replace(`sig=${sig}`, 'sig=not-base64!'),
      `${h.gateway.url}/v1/links/${media.id}/content`,
    ]
    for (const variant of variants) {
      const res = await fetch(variant)
      expect(res.status, variant).toBe(403)
      expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } })
    }
  })

  it('refuses an expired link and one signed with another key, with 403', async () => {
    const ours = new LinkSigner(linkKeys({ signingSecrets: [], apiKey: API_KEY }))
    // The same derivation the server uses: a link that expired a minute ago is genuine but refused.
    const expired = await fetch(`${h.gateway.url}${ours.path(media.id, new Date(Date.now() - 60_000))}`)
    expect(expired.status).toBe(403)
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/expired/)
    const fresh = await fetch(`${h.gateway.url}${ours.path(media.id, new Date(Date.now() + 60_000))}`)
    expect(fresh.status).toBe(200)
    await fresh.arrayBuffer()
    const foreign = new LinkSigner(linkKeys({ signingSecrets: [], apiKey: 'another-api-key-0123456789' }))
    const res = await fetch(`${h.gateway.url}${foreign.path(media.id, new Date(Date.now() + 60_000))}`)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not valid/)
  })

  it('answers 410 through a link to media deleted after it was issued', async () => {
    const gone = await h.storedWhatsApp(randomBytes(700), { type: 'image', mimeType: 'image/jpeg' })
    const { url } = (await (await issue(h, gone.id)).json()) as { url: string }
    expect((await h.api(`/v1/media/${gone.id}`, { method: 'DELETE' })).status).toBe(200)
    const res = await fetch(url)
    expect(res.status).toBe(410)
    expect(await res.json()).toMatchObject({ error: { code: 'deleted' } })
    expect((await issue(h, gone.id)).status).toBe(410)
  })
})

describe('signed links with MEDIAGATE_SIGNING_SECRET (rotation) and MEDIAGATE_PUBLIC_URL', () => {
  let h: Harness
  let media: MediaJson
  beforeAll(async () => {
    h = await startHarness({
      env: { MEDIAGATE_SIGNING_SECRET: `${NEW_KEY},${OLD_KEY}`, MEDIAGATE_PUBLIC_URL: 'https://media.example.com/', MEDIAGATE_POLICY_INSTAGRAM: 'proxy' },
    })
    media = await h.storedWhatsApp(JPEG, { type: 'image', mimeType: 'image/jpeg' })
  })
  afterAll(async () => h?.close())

  it('signs with the first key and points at the public URL', async () => {
    const { url } = (await (await issue(h, media.id)).json()) as { url: string }
    expect(url.startsWith(`https://media.example.com/v1/links/${media.id}/content?exp=`)).toBe(true)
    const u = new URL(url)
    const [exp, sig] = [u.searchParams.get('exp'), u.searchParams.get('sig')]
    expect(new LinkSigner([Buffer.from(NEW_KEY)]).check(media.id, exp, sig)).toBe('valid')
    expect(new LinkSigner([Buffer.from(OLD_KEY)]).check(media.id, exp, sig)).toBe('invalid')
    const local = await fetch(`${h.gateway.url}${u.pathname}${u.search}`)
    expect(local.status).toBe(200)
    expect(sha(Buffer.from(await local.arrayBuffer()))).toBe(sha(JPEG))
  })

  it('still accepts links signed with the older key, and no longer those derived from the API key', async () => {
    const until = new Date(Date.now() + 60_000)
    const old = await fetch(`${h.gateway.url}${new LinkSigner([Buffer.from(OLD_KEY)]).path(media.id, until)}`)
    expect(old.status).toBe(200)
    await old.arrayBuffer()
    const derived = await fetch(`${h.gateway.url}${new LinkSigner(linkKeys({ signingSecrets: [], apiKey: API_KEY })).path(media.id, until)}`)
    expect(derived.status).toBe(403)
  })

  it('serves proxy media through a link too', async () => {
    const bytes = randomBytes(3000)
    const cdn = h.emulator.addCdnMedia({ platform: 'instagram', bytes, mimeType: 'video/mp4' })
    const payload = instagramMessage({ attachments: [{ type: 'video', url: cdn.url! }] })
    await h.postWebhook(payload)
    const [record] = await h.mediaOf(payload.entry[0]!.messaging[0]!.message!.mid as string)
    expect(record!.status).toBe('remote')
    const { url } = (await (await issue(h, record!.id)).json()) as { url: string }
    const u = new URL(url)
    const res = await fetch(`${h.gateway.url}${u.pathname}${u.search}`)
    expect(res.status).toBe(200)
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(bytes))
  })

  it('refuses a signing key shorter than 16 characters at load, without echoing it', async () => {
    const { loadConfig } = await import('../../src/config/load-config.js')
    const load = () => loadConfig({ env: { META_APP_SECRET: 's', MEDIAGATE_API_KEY: 'k'.repeat(32), MEDIAGATE_SIGNING_SECRET: `${NEW_KEY},short-key` } })
    expect(load).toThrow(/MEDIAGATE_SIGNING_SECRET: every key must be at least 16 characters/)
    try {
      load()
    } catch (err) {
      expect((err as Error).message).not.toContain('short-key')
    }
  })
})
