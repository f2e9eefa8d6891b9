/**
 * quickSniff answers only what file-type answers for the same head. Compared on real files (the
 * emulator's samples, and images sharp encodes), on every head length around the signatures, and
 * on hostile heads: each early byte of a real head changed, PNG chunk walks file-type ends
 * differently, box sizes and brands, RIFF sizes that spell another check's signature.
 */
import { randomBytes } from 'node:crypto'
import { fileTypeFromBuffer } from 'file-type'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { sampleJpeg, sampleMp4, sampleOgg, samplePdf, samplePng, sampleWebp } from '../../src/emulator/index.js'
import { quickSniff } from '../../src/transfer/quick-sniff.js'
import { SNIFF_BYTES, sniffMime } from '../../src/transfer/sniff.js'

const head = (bytes: Buffer) => bytes.subarray(0, SNIFF_BYTES)
const fileType = async (bytes: Buffer) => (await fileTypeFromBuffer(bytes))?.mime

/** Heads where the two disagree: quickSniff may only answer what file-type answers. */
async function disagreements(heads: Buffer[]): Promise<string[]> {
  const found: string[] = []
  for (const h of heads) {
    const quick = quickSniff(h)
    if (quick === undefined) continue
    const slow = await fileType(h)
    if (quick !== slow) found.push(`${h.subarray(0, 40).toString('hex')} (${h.length} bytes): quick ${quick}, file-type ${slow}`)
  }
  return found
}

function pngChunk(type: string, data: Buffer, length = data.length): Buffer {
  const header = Buffer.alloc(8)
  header.writeInt32BE(length)
  header.write(type, 4, 'latin1')
  return Buffer.concat([header, data, Buffer.alloc(4)])
}
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const ihdr = pngChunk('IHDR', Buffer.alloc(13))
const png = (...chunks: Buffer[]) => Buffer.concat([PNG_SIGNATURE, ...chunks, Buffer.alloc(64)])

const samples: [string, Buffer][] = [
  ['image/jpeg', sampleJpeg(3)],
  ['image/png', samplePng(3)],
  ['audio/ogg; codecs=opus', sampleOgg(3)],
  ['video/mp4', sampleMp4(3)],
  ['application/pdf', samplePdf(3)],
  ['image/webp', sampleWebp(3)],
]

describe('quickSniff', () => {
  it('answers for the emulator samples, as file-type does', async () => {
    for (const [mime, bytes] of samples) {
      expect(await fileType(head(bytes))).toBe(mime)
      expect(quickSniff(head(bytes)), mime).toBe(mime)
      expect(await sniffMime(head(bytes))).toBe(mime)
    }
  })

  it('answers for images sharp encodes, as file-type does', async () => {
    const image = sharp({ create: { width: 160, height: 120, channels: 3, background: 'black', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    const encoded: [string, Buffer][] = [
      ['image/jpeg', await image.clone().jpeg().toBuffer()],
      ['image/jpeg', await image.clone().jpeg({ progressive: true }).withMetadata().toBuffer()],
      ['image/png', await image.clone().png().toBuffer()],
      ['image/png', await image.clone().png({ palette: true }).withMetadata().toBuffer()],
      ['image/webp', await image.clone().webp().toBuffer()],
      ['image/webp', await image.clone().webp({ lossless: true }).toBuffer()],
      ['image/gif', await image.clone().gif().toBuffer()],
    ]
    for (const [mime, bytes] of encoded) {
      expect(await fileType(head(bytes))).toBe(mime)
      expect(quickSniff(head(bytes)), mime).toBe(mime)
    }
  })

  it('leaves other types and short heads to file-type', async () => {
    expect(quickSniff(randomBytes(SNIFF_BYTES))).toBeUndefined()
    expect(quickSniff(Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(200)]))).toBeUndefined()
    expect(quickSniff(head(sampleJpeg()).subarray(0, 63))).toBeUndefined()
    const tiny = (await sharp({ create: { width: 1, height: 1, channels: 3, background: 'black' } }).png().toBuffer()).subarray(0, 60)
    expect(quickSniff(tiny)).toBeUndefined()
    expect(await sniffMime(tiny)).toBe(await fileType(tiny))
  })

  it('agrees with file-type at every head length around the signatures', async () => {
    const heads = samples.flatMap(([, bytes]) => Array.from({ length: 200 }, (_, n) => bytes.subarray(0, n)))
    expect(await disagreements(heads)).toEqual([])
  })

  it('agrees with file-type when any early byte of a real head is changed', async () => {
    const heads: Buffer[] = []
    for (const [, bytes] of samples) {
      const h = head(bytes)
      for (let at = 0; at < 48; at++) {
        for (const value of [0x00, 0x01, 0x20, 0x7f, 0x80, 0xf7, 0xff, (h[at]! + 1) & 0xff, (h[at]! - 1) & 0xff]) {
          const changed = Buffer.from(h)
          changed[at] = value
          heads.push(changed)
        }
      }
    }
    expect(await disagreements(heads)).toEqual([])
  })

  it('agrees with file-type on PNG chunk walks that end other ways', async () => {
    const idat = pngChunk('IDAT', Buffer.alloc(10))
    const heads = [
      png(ihdr, idat),
      png(ihdr, pngChunk('acTL', Buffer.alloc(8)), idat),
      png(ihdr, pngChunk('tEXt', Buffer.alloc(30)), pngChunk('pHYs', Buffer.alloc(9)), idat),
      png(idat),
      png(pngChunk('CgBI', Buffer.alloc(4)), ihdr, idat),
      png(pngChunk('IHDR', Buffer.alloc(12)), idat),
      png(ihdr, pngChunk('IHDR', Buffer.alloc(12)), idat),
      png(ihdr, pngChunk('IDAT', Buffer.alloc(0), -1)),
      png(ihdr, pngChunk('tEXt', Buffer.alloc(4), -5), idat),
      png(ihdr, pngChunk('tEXt', Buffer.alloc(4), 5000), idat),
      Buffer.concat([PNG_SIGNATURE, ihdr, pngChunk('tEXt', Buffer.alloc(10)), pngChunk('acTL', Buffer.alloc(8)).subarray(0, 8)]),
      Buffer.concat([PNG_SIGNATURE, ihdr, pngChunk('tEXt', Buffer.alloc(30)), pngChunk('acTL', Buffer.alloc(8)).subarray(0, 7)]),
      png(ihdr, ...Array.from({ length: 100 }, () => pngChunk('tEXt', Buffer.alloc(1))), idat),
    ]
    expect(await disagreements(heads)).toEqual([])
    expect(quickSniff(heads[0]!)).toBe('image/png')
    expect(quickSniff(heads[1]!)).toBe('image/apng')
  })

  it('agrees with file-type on ISO BMFF box sizes and brands', async () => {
    const brands = ['isom', 'mp42', '3gp4', '3gp5', '3g2a', '3ge6', 'qt  ', 'M4A ', 'M4V ', 'M4P ', 'heic', 'heix', 'mif1', 'msf1', 'avif', 'avis', 'crx ', 'f4v ', 'F4V ', 'abcd', '\0\0\0\0', 'is\0m', ' iso']
    const heads: Buffer[] = []
    for (const brand of brands) {
      for (const size of [[0, 0, 0, 0x18], [0, 0, 0, 0], [0, 0, 0, 0xff], [0, 0, 1, 0xba], [0, 0x61, 0x73, 0x6d], [0, 0, 2, 0], [1, 0, 0, 0x20]]) {
        heads.push(Buffer.concat([Buffer.from(size), Buffer.from(`ftyp${brand}`, 'latin1'), randomBytes(100)]))
      }
    }
    expect(await disagreements(heads)).toEqual([])
    expect(quickSniff(heads[0]!)).toBe('video/mp4')
  })

  it('agrees with file-type on RIFF sizes that spell other signatures, and on other Ogg streams', async () => {
    const heads: Buffer[] = []
    for (const size of ['free', 'mdat', 'moov', 'wide', 'ftyp', '\x10\x00\x00\x00', '\x00\x00\x00\x1f', '\xff\xff\xff\xff']) {
      for (const form of ['WEBP', 'WAVE', 'AVI ']) heads.push(Buffer.concat([Buffer.from(`RIFF${size}${form}`, 'latin1'), randomBytes(100)]))
    }
    const ogg = head(sampleOgg(1))
    for (const packet of ['\x01vorbis', '\x80theora', '\x01video\x00', '\x7fFLAC', 'Speex  ', 'Opus', 'OpusHeaX', '']) {
      const h = Buffer.from(ogg)
      h.fill(0, 28, 36)
      h.write(packet, 28, 'latin1')
      heads.push(h)
    }
    expect(await disagreements(heads)).toEqual([])
    expect(quickSniff(heads[0]!)).toBeUndefined()
    expect(quickSniff(heads.at(-8)!)).toBe('audio/ogg')
  })
})
