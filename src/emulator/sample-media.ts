/**
 * The emulator's sample media: real files a viewer can show and a player can play (made once by
 * scripts/make-samples.mjs, committed in ./samples/ and copied into dist by the build): a photo
 * as a phone takes it (1600×1200 JPEG with EXIF and GPS) and a PNG, a 4-second voice note in
 * OGG/Opus, a 3-second H.264/AAC MP4, a one-page PDF and an animated WebP sticker.
 *
 * A nonce varies each file's bytes, in a place every reader skips, so samples sent one after the
 * other do not all share one hash (and one blob): a JPEG comment, a PNG text chunk, a comment in
 * the Opus tags, a trailing MP4 `free` box, an unknown WebP chunk, a PDF comment after %%EOF.
 */
import { existsSync, readFileSync } from 'node:fs'
import { crc32 } from 'node:zlib'

const FILES = { jpeg: 'photo.jpg', png: 'photo.png', ogg: 'voice.ogg', pdf: 'document.pdf', mp4: 'clip.mp4', webp: 'sticker.webp' } as const

export type SampleKind = keyof typeof FILES

const loaded = new Map<SampleKind, Buffer>()

/** The file as committed (read once). */
function original(kind: SampleKind): Buffer {
  let bytes = loaded.get(kind)
  if (!bytes) {
    // Beside this module (src/, and dist/ where the build copies them); else the sources' (a
    // compiled copy the build does not copy them to, such as the benchmark's dist-bench/).
    const candidates = [new URL(`./samples/${FILES[kind]}`, import.meta.url), new URL(`../../../src/emulator/samples/${FILES[kind]}`, import.meta.url)]
    bytes = readFileSync(candidates.find((url) => existsSync(url)) ?? candidates[0]!)
    loaded.set(kind, bytes)
  }
  return bytes
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}

function le32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return b
}

const marker = (nonce: number) => Buffer.from(`mediagate emulator sample ${nonce}`, 'latin1')

/** The photo, with a COM segment right after SOI. */
export function sampleJpeg(nonce = 0): Buffer {
  const jpeg = original('jpeg')
  const text = marker(nonce)
  const com = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from([(text.length + 2) >> 8, (text.length + 2) & 0xff]), text])
  return Buffer.concat([jpeg.subarray(0, 2), com, jpeg.subarray(2)])
}

/** The PNG, with a tEXt chunk after IHDR (8-byte signature + 25-byte IHDR chunk). */
export function samplePng(nonce = 0): Buffer {
  const png = original('png')
  const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from('Comment\0', 'latin1'), marker(nonce)])
  const chunk = Buffer.concat([u32(body.length - 4), body, u32(crc32(body))])
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)])
}

const OGG_CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let r = i << 24
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1
    table[i] = r >>> 0
  }
  return table
})()

function oggCrc(data: Buffer): number {
  let crc = 0
  for (const byte of data) crc = ((crc << 8) ^ OGG_CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0
  return crc
}

/**
 * The voice note, with one more user comment in its OpusTags packet. The tags are the second
 * page of the stream and fit in it (as ffmpeg writes a short file); the page is rebuilt with its
 * lacing and checksum, every other page is kept as it is.
 */
export function sampleOgg(nonce = 0): Buffer {
  const ogg = original('ogg')
  const firstLength = 27 + ogg[26]! + sum(ogg.subarray(27, 27 + ogg[26]!))
  const second = ogg.subarray(firstLength)
  const segments = second[26]!
  const lacing = second.subarray(27, 27 + segments)
  const packetLength = sum(lacing)
  const pageLength = 27 + segments + packetLength
  const tags = second.subarray(27 + segments, pageLength)
  if (tags.toString('latin1', 0, 8) !== 'OpusTags' || lacing[segments - 1] === 255) return ogg
  const vendorLength = tags.readUInt32LE(8)
  const countAt = 12 + vendorLength
  const comment = Buffer.concat([Buffer.from('COMMENT=', 'latin1'), marker(nonce)])
  const packet = Buffer.concat([tags.subarray(0, countAt), le32(tags.readUInt32LE(countAt) + 1), tags.subarray(countAt + 4), le32(comment.length), comment])
  const newLacing: number[] = []
  for (let left = packet.length; ; left -= 255) {
    newLacing.push(Math.min(left, 255))
    if (left < 255) break
  }
  const header = Buffer.from(second.subarray(0, 27))
  header[26] = newLacing.length
  header.writeUInt32LE(0, 22)
  const page = Buffer.concat([header, Buffer.from(newLacing), packet])
  page.writeUInt32LE(oggCrc(page), 22)
  return Buffer.concat([ogg.subarray(0, firstLength), page, second.subarray(pageLength)])
}

function sum(bytes: Buffer): number {
  let total = 0
  for (const b of bytes) total += b
  return total
}

/** The PDF, with a comment after %%EOF (readers stop at the last %%EOF's trailer). */
export function samplePdf(nonce = 0): Buffer {
  return Buffer.concat([original('pdf'), Buffer.from(`% ${marker(nonce).toString('latin1')}\n`, 'latin1')])
}

/** The clip, with a top-level `free` box at its end (players skip free space). */
export function sampleMp4(nonce = 0): Buffer {
  const text = marker(nonce)
  return Buffer.concat([original('mp4'), u32(8 + text.length), Buffer.from('free', 'latin1'), text])
}

/** The animated sticker, with an unknown RIFF chunk at its end (decoders skip unknown chunks). */
export function sampleWebp(nonce = 0): Buffer {
  const webp = original('webp')
  let text = marker(nonce)
  if (text.length % 2 === 1) text = Buffer.concat([text, Buffer.from(' ', 'latin1')])
  const chunk = Buffer.concat([Buffer.from('MGNC', 'latin1'), le32(text.length), text])
  const out = Buffer.concat([webp, chunk])
  out.writeUInt32LE(out.length - 8, 4)
  return out
}

export const SAMPLE_MIME: Record<SampleKind, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  ogg: 'audio/ogg',
  pdf: 'application/pdf',
  mp4: 'video/mp4',
  webp: 'image/webp',
}

export function sampleFile(kind: SampleKind, nonce = 0): Buffer {
  switch (kind) {
    case 'jpeg':
      return sampleJpeg(nonce)
    case 'png':
      return samplePng(nonce)
    case 'ogg':
      return sampleOgg(nonce)
    case 'pdf':
      return samplePdf(nonce)
    case 'mp4':
      return sampleMp4(nonce)
    case 'webp':
      return sampleWebp(nonce)
  }
}
