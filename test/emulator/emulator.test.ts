import { inflateSync } from 'node:zlib'
import { fileTypeFromBuffer } from 'file-type'
import { describe, expect, it } from 'vitest'
import { sampleFile, startEmulator } from '../../src/emulator/index.js'
import { SECRET, TOKEN } from './fixture.js'

describe('startEmulator', () => {
  it('validates its options', async () => {
    await expect(startEmulator({ accessToken: '', appSecret: SECRET })).rejects.toMatchObject({ code: 'invalid_config' })
    await expect(startEmulator({ accessToken: TOKEN, appSecret: SECRET, graphVersion: '26' })).rejects.toMatchObject({ code: 'invalid_config' })
    await expect(startEmulator({ accessToken: TOKEN, appSecret: SECRET, latencyMs: -1 })).rejects.toMatchObject({ code: 'invalid_config' })
  })

  it('listens on an ephemeral loopback port and waits latencyMs before Graph and CDN responses only', async () => {
    const emu = await startEmulator({ accessToken: TOKEN, appSecret: SECRET, latencyMs: 80 })
    try {
      expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const media = emu.addCdnMedia({ platform: 'messenger', size: 10, mimeType: 'image/jpeg' })
      const time = async (url: string, headers: Record<string, string> = {}) => {
        const started = performance.now()
        await (await fetch(url, { headers })).arrayBuffer()
        return performance.now() - started
      }
      expect(await time(`${emu.url}/v26.0/me`, { authorization: `Bearer ${TOKEN}` })).toBeGreaterThanOrEqual(75)
      expect(await time(media.url!)).toBeGreaterThanOrEqual(75)
      expect(await time(`${emu.url}/_emulator/stats`)).toBeLessThan(75)
    } finally {
      await emu.close()
    }
  })

  it('close() ends in-flight responses instead of waiting for a stall', async () => {
    const emu = await startEmulator({ accessToken: TOKEN, appSecret: SECRET })
    const media = emu.addCdnMedia({ platform: 'messenger', size: 100_000, mimeType: 'video/mp4' })
    emu.setFaults(media.id, { stallMs: 60_000 })
    const res = await fetch(media.url!)
    const reading = res.arrayBuffer().catch((err: unknown) => err)
    const started = performance.now()
    await emu.close()
    expect(await reading).toBeInstanceOf(Error)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('streams a large generated media fast and without buffering it', async () => {
    const emu = await startEmulator({ accessToken: TOKEN, appSecret: SECRET })
    try {
      const size = 64 * 1024 * 1024
      const media = emu.addCdnMedia({ platform: 'messenger', size, mimeType: 'video/mp4' })
      const heapBefore = process.memoryUsage().heapUsed
      const started = performance.now()
      const res = await fetch(media.url!)
      let received = 0
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received += chunk.length
      expect(received).toBe(size)
      expect(emu.stats().byMedia[media.id]).toMatchObject({ downloadsCompleted: 1, bytesSent: size })
      // Loose bounds: only catches buffering the whole file or a pathologically slow generator.
      expect(performance.now() - started).toBeLessThan(10_000)
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(size)
    } finally {
      await emu.close()
    }
  })
})

describe('sample media', () => {
  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['ogg', 'audio/ogg; codecs=opus'],
    ['pdf', 'application/pdf'],
    ['mp4', 'video/mp4'],
    ['webp', 'image/webp'],
  ] as const)('%s sniffs as %s', async (kind, mime) => {
    const bytes = sampleFile(kind, 3)
    expect(bytes.length).toBeLessThan(2048)
    expect((await fileTypeFromBuffer(bytes))?.mime).toBe(mime)
  })

  it('varies content with the nonce so samples do not share a hash', () => {
    for (const kind of ['jpeg', 'png', 'ogg', 'pdf', 'mp4'] as const) expect(sampleFile(kind, 1).equals(sampleFile(kind, 2))).toBe(false)
  })

  it('writes a PNG whose pixel data inflates to one RGB pixel', () => {
    const png = sampleFile('png', 5)
    const idatAt = png.indexOf('IDAT')
    const length = png.readUInt32BE(idatAt - 4)
    const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + length))
    expect(raw.length).toBe(4) // filter byte + RGB
    expect(png.subarray(-8, -4).toString('latin1')).toBe('IEND')
  })

  it('writes a JPEG with SOI, baseline SOF0 8x8 and EOI markers', () => {
    const jpeg = sampleFile('jpeg', 9)
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8')
    expect(jpeg.subarray(-2).toString('hex')).toBe('ffd9')
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]))
    expect(jpeg.readUInt16BE(sof + 5)).toBe(8)
    expect(jpeg.readUInt16BE(sof + 7)).toBe(8)
  })
})
