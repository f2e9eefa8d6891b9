import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { useEmulator } from './fixture.js'

const HOUR = 60 * 60 * 1000
const f = useEmulator()

async function get(url: string | URL, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers })
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) }
}

describe('Messenger CDN (fbcdn-style URLs)', () => {
  it('shapes URLs like fbcdn: path family by type, oh signature, oe = uppercase hex expiry', () => {
    const image = new URL(f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'image/jpeg' }).url!)
    const video = new URL(f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'video/mp4' }).url!)
    const audio = new URL(f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'audio/mpeg' }).url!)
    const file = new URL(f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'application/pdf', filename: 'report Q1.pdf' }).url!)
    expect(image.pathname).toMatch(/^\/v\/t1\.15752-9\/\d+_\d+_n\.jpg$/)
    expect(video.pathname).toMatch(/^\/v\/t42\.3356-2\/\d+_\d+_n\.mp4$/)
    expect(audio.pathname).toMatch(/^\/v\/t42\.3356-2\/\d+_\d+_n\.mp3$/)
    expect(file.pathname).toMatch(/^\/v\/t59\.2708-21\/\d+_\d+_n\.pdf\/report%20Q1\.pdf$/)
    expect(file.searchParams.get('dl')).toBe('1')
    for (const u of [image, video, audio, file]) {
      expect(u.searchParams.get('_nc_cat')).toBe('1')
      expect(u.searchParams.get('oh')).toMatch(/^00_[\w-]+$/)
      expect(u.searchParams.get('oe')).toMatch(/^[0-9A-F]+$/)
    }
    // Default lifetime: one hour from the emulator's clock (the fixture starts it at 1.8e12 and this runs first).
    const oe = parseInt(image.searchParams.get('oe')!, 16) * 1000
    expect(oe - 1_800_000_000_000).toBeGreaterThanOrEqual(HOUR)
    expect(oe - 1_800_000_000_000).toBeLessThan(HOUR + 1000)
  })

  it('serves without Authorization, with the file name for dl=1 files', async () => {
    const bytes = randomBytes(300)
    const media = f.emu.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'application/pdf', filename: 'a.pdf' })
    const res = await get(media.url!)
    expect(res.status).toBe(200)
    expect(res.body.equals(bytes)).toBe(true)
    expect(res.headers.get('content-type')).toBe('application/pdf')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="a.pdf"')
  })

  it('403s "URL signature expired" for a tampered oh, a tampered oe or path, and after expiry', async () => {
    const media = f.emu.addCdnMedia({ platform: 'messenger', size: 64, mimeType: 'image/jpeg', ttlMs: 10_000 })
    const url = new URL(media.url!)
    const tamperedOh = new URL(url)
    tamperedOh.searchParams.set('oh', `${url.searchParams.get('oh')!.slice(0, -2)}AA`)
    const extendedOe = new URL(url)
    extendedOe.searchParams.set('oe', 'FFFFFFFF')
    const otherPath = new URL(url)
    otherPath.pathname = url.pathname.replace(/_n\.jpg$/, '_n.png')
    for (const u of [tamperedOh, extendedOe, otherPath]) {
      const res = await get(u)
      expect(res.status).toBe(403)
      expect(res.body.toString()).toBe('URL signature expired')
    }
    expect((await get(url)).status).toBe(200)
    f.advance(10_001)
    const expired = await get(url)
    expect(expired.status).toBe(403)
    expect(expired.body.toString()).toBe('URL signature expired')
    // A freshly signed URL for the same media works again.
    expect((await get(f.emu.cdnUrl(media.id))).status).toBe(200)
  })

  it('supports Range on CDN downloads', async () => {
    const bytes = randomBytes(256)
    const media = f.emu.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'video/mp4' })
    const res = await get(media.url!, { range: 'bytes=10-19' })
    expect(res.status).toBe(206)
    expect(res.body.equals(bytes.subarray(10, 20))).toBe(true)
  })
})

describe('Instagram lookaside CDN', () => {
  it('uses /ig_messaging_cdn/?asset_id&signature, needs no auth and expires server-side', async () => {
    const bytes = randomBytes(100)
    const media = f.emu.addCdnMedia({ platform: 'instagram', bytes, mimeType: 'image/jpeg', ttlMs: 60_000 })
    const url = new URL(media.url!)
    expect(url.pathname).toBe('/ig_messaging_cdn/')
    expect(url.searchParams.get('asset_id')).toBe(media.id)
    expect(url.searchParams.get('signature')).toBeTruthy()
    const ok = await get(url)
    expect(ok.status).toBe(200)
    expect(ok.body.equals(bytes)).toBe(true)

    const tampered = new URL(url)
    tampered.searchParams.set('signature', 'forged')
    expect((await get(tampered)).status).toBe(403)

    f.advance(60_001)
    const expired = await get(url)
    expect(expired.status).toBe(403)
    expect(expired.body.toString()).toBe('URL signature expired')
  })

  it('does not serve Instagram assets through a Messenger path or the reverse', async () => {
    const ig = f.emu.addCdnMedia({ platform: 'instagram', size: 10, mimeType: 'image/jpeg' })
    const fb = f.emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'image/jpeg' })
    expect((await get(ig.url!)).status).toBe(200)
    expect((await get(fb.url!)).status).toBe(200)
    const swapped = new URL(ig.url!)
    swapped.searchParams.set('asset_id', fb.id)
    expect((await get(swapped)).status).toBe(403)
  })
})
