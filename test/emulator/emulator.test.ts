import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
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
    expect((await fileTypeFromBuffer(bytes))?.mime).toBe(mime)
  })

  it('varies content with the nonce so samples do not share a hash', () => {
    for (const kind of ['jpeg', 'png', 'ogg', 'pdf', 'mp4', 'webp'] as const) expect(sampleFile(kind, 1).equals(sampleFile(kind, 2))).toBe(false)
  })

  it('are real pictures a decoder reads whole, whatever the nonce: a photo-sized JPEG with EXIF, a PNG, an animated WebP', async () => {
    const jpeg = await sharp(sampleFile('jpeg', 9), { failOn: 'warning' }).stats()
    expect(jpeg.isOpaque).toBe(true)
    const photo = await sharp(sampleFile('jpeg', 9)).metadata()
    expect(photo).toMatchObject({ format: 'jpeg', width: 1600, height: 1200 })
    // The GPS IFD pointer (tag 0x8825, little-endian): the photo says where it was taken.
    expect(photo.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true)
    expect(sampleFile('jpeg', 9).length).toBeGreaterThan(200_000)
    expect(await sharp(sampleFile('png', 5), { failOn: 'warning' }).metadata()).toMatchObject({ format: 'png', width: 640, height: 480 })
    expect(sampleFile('png', 5).length).toBeGreaterThan(200_000)
    const sticker = await sharp(sampleFile('webp', 4), { failOn: 'warning', pages: -1 }).metadata()
    expect(sticker).toMatchObject({ format: 'webp', width: 512, pages: 20 })
  })

  it.skipIf(!ffprobeAvailable())('are real audio and video ffprobe reads: a 4 s Opus voice note, a 3 s H.264/AAC MP4', () => {
    const probe = (bytes: Buffer) => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'sample-')), 'f')
      writeFileSync(file, bytes)
      const out = execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { encoding: 'utf8' })
      return JSON.parse(out) as { format: { duration: string }; streams: { codec_name: string }[] }
    }
    const voice = probe(sampleFile('ogg', 11))
    expect(voice.streams.map((s) => s.codec_name)).toEqual(['opus'])
    expect(Number(voice.format.duration)).toBeCloseTo(4, 0)
    const clip = probe(sampleFile('mp4', 11))
    expect(clip.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264'])
    expect(Number(clip.format.duration)).toBeCloseTo(3, 0)
  })
})

function ffprobeAvailable(): boolean {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' })
    return true
  } catch {
    if (process.env.CI === 'true') throw new Error('ffprobe is missing (apt-get install ffmpeg)')
    return false
  }
}
