/** Image derivation with real sharp: sizes, channels, orientation, placeholder, metadata, refusals. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp, { type Color, type Exif } from 'sharp'
import { thumbHashToApproximateAspectRatio, thumbHashToAverageRGBA } from 'thumbhash'
import { describe, expect, it } from 'vitest'
import { deriveImage } from '../../src/derivatives/image.js'
import { sampleJpeg } from '../../src/emulator/sample-media.js'

const options = { maxPixels: 50_000_000 }
const placeholderOf = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'))

async function solid(width: number, height: number, background: Color, format: 'jpeg' | 'png', exif?: Exif): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: format === 'png' ? 4 : 3, background } })
  const encoded = format === 'png' ? image.png() : image.jpeg()
  return (exif ? encoded.withExif(exif) : encoded).toBuffer()
}

describe('deriveImage', () => {
  it('makes WebP thumbnails at 96, 320 and 640 of a photo, from a file or a buffer alike', async () => {
    const photo = sampleJpeg(7)
    const image = await deriveImage(photo, options)
    expect(image).toMatchObject({ width: 1600, height: 1200 })
    const sizes = await Promise.all(image.thumbnails.map(async (t) => ({ size: t.size, meta: await sharp(t.data).metadata() })))
    expect(sizes.map((s) => [s.size, s.meta.format, s.meta.width, s.meta.height])).toEqual([
      [96, 'webp', 96, 72],
      [320, 'webp', 320, 240],
      [640, 'webp', 640, 480],
    ])
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'derive-image-')), 'photo.jpg')
    writeFileSync(file, photo)
    const fromFile = await deriveImage(file, options)
    expect(fromFile.placeholder).toBe(image.placeholder)
    expect(fromFile.thumbnails.map((t) => t.data.equals(image.thumbnails.find((u) => u.size === t.size)!.data))).toEqual([true, true, true])
  })

  it('strips EXIF and GPS from every thumbnail', async () => {
    const bytes = await solid(800, 600, { r: 30, g: 140, b: 60 }, 'jpeg', { IFD0: { Make: 'TestCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1' } })
    expect((await sharp(bytes).metadata()).exif).toBeDefined()
    for (const t of (await deriveImage(bytes, options)).thumbnails) {
      const meta = await sharp(t.data).metadata()
      expect(meta.exif).toBeUndefined()
      expect(meta.xmp).toBeUndefined()
    }
  })

  it('makes the placeholder from the picture: its colour, aspect and alpha', async () => {
    const red = await deriveImage(await solid(400, 200, { r: 220, g: 20, b: 20 }, 'jpeg'), options)
    const avg = thumbHashToAverageRGBA(placeholderOf(red.placeholder))
    expect(avg.r).toBeGreaterThan(0.7)
    expect(avg.g).toBeLessThan(0.2)
    expect(avg.b).toBeLessThan(0.2)
    expect(avg.a).toBe(1)
    expect(thumbHashToApproximateAspectRatio(placeholderOf(red.placeholder))).toBeCloseTo(2, 0)

    const translucent = await deriveImage(await solid(300, 300, { r: 0, g: 0, b: 255, alpha: 0.4 }, 'png'), options)
    const a = thumbHashToAverageRGBA(placeholderOf(translucent.placeholder))
    expect(a.b).toBeGreaterThan(0.7)
    expect(a.a).toBeLessThan(0.7)
    // Transparency survives into the thumbnails.
    expect((await sharp(translucent.thumbnails[0]!.data).metadata()).hasAlpha).toBe(true)
  })

  it('keeps greyscale and small images as they are: no enlargement, a placeholder all the same', async () => {
    const grey = await sharp({ create: { width: 50, height: 40, channels: 3, background: { r: 128, g: 128, b: 128 } } }).toColourspace('b-w').png().toBuffer()
    expect((await sharp(grey).metadata()).channels).toBe(1)
    const image = await deriveImage(grey, options)
    expect(image).toMatchObject({ width: 50, height: 40 })
    for (const t of image.thumbnails) expect((await sharp(t.data).metadata()).width).toBe(50)
    const avg = thumbHashToAverageRGBA(placeholderOf(image.placeholder))
    expect(avg.r).toBeCloseTo(avg.g, 1)
    expect(avg.r).toBeGreaterThan(0.3)
  })

  it('applies the EXIF orientation', async () => {
    const bytes = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#000' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer()
    const image = await deriveImage(bytes, options)
    expect(image).toMatchObject({ width: 100, height: 200 })
    expect(await sharp(image.thumbnails[0]!.data).metadata()).toMatchObject({ width: 48, height: 96 })
  })

  it('refuses corrupt bytes and images over the pixel limit with a reason', async () => {
    const truncated = sampleJpeg(1).subarray(0, 20_000)
    await expect(deriveImage(truncated, options)).rejects.toMatchObject({ code: 'unprocessable_media', message: expect.stringMatching(/could not be decoded/) })
    await expect(deriveImage(Buffer.from('not an image at all'), options)).rejects.toMatchObject({ code: 'unprocessable_media' })
    await expect(deriveImage(sampleJpeg(1), { maxPixels: 1_000_000 })).rejects.toMatchObject({ code: 'unprocessable_media', message: expect.stringMatching(/MEDIAGATE_MAX_PIXELS/) })
  })
})
