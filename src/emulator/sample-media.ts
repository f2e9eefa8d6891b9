/**
 * Tiny but valid media files generated in code (no binary fixtures): an 8x8 baseline JPEG, a
 * 1x1 PNG, an Ogg Opus clip of one silent frame, a one-page PDF, an MP4 container skeleton and
 * a 1x1 lossless WebP. A nonce varies each file's content so samples do not all share one hash.
 */
import { crc32, deflateSync } from 'node:zlib'

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
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

/** Three bytes of colour derived from the nonce. */
function colour(nonce: number): [number, number, number] {
  const x = (Math.imul(nonce + 1, 2654435761) >>> 0) & 0xffffff
  return [x >> 16, (x >> 8) & 0xff, x & 0xff]
}

export function samplePng(nonce = 0): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    return Buffer.concat([u32(data.length), body, u32(crc32(body))])
  }
  const header = Buffer.concat([u32(1), u32(1), Buffer.from([8, 2, 0, 0, 0])]) // 1x1, 8-bit RGB
  const pixels = deflateSync(Buffer.from([0, ...colour(nonce)])) // filter byte 0, then RGB
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))])
}

/** Appends bits MSB-first, with JPEG's 0xFF byte stuffing. */
class BitWriter {
  private bytes: number[] = []
  private acc = 0
  private count = 0
  put(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1)
      if (++this.count === 8) this.flushByte()
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc)
    if (this.acc === 0xff) this.bytes.push(0)
    this.acc = 0
    this.count = 0
  }
  finish(): Buffer {
    while (this.count !== 0) this.put(1, 1)
    return Buffer.from(this.bytes)
  }
}

/**
 * A solid-colour 8x8 baseline JPEG (YCbCr, no subsampling). A flat block has only a DC term,
 * so each component is one DC value followed by end-of-block; the Huffman tables are minimal:
 * DC categories 0–11 as 4-bit codes, and AC with EOB as the single 1-bit code `0`.
 */
export function sampleJpeg(nonce = 0): Buffer {
  const [r, g, b] = colour(nonce)
  const ycc = [0.299 * r + 0.587 * g + 0.114 * b, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b, 128 + 0.5 * r - 0.418688 * g - 0.081312 * b]
  const segment = (marker: number, data: Buffer) => Buffer.concat([Buffer.from([0xff, marker]), u16(data.length + 2), data])
  const jfif = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
  const dqt = Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)])
  const sof = Buffer.from([8, 0, 8, 0, 8, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0])
  const dcCounts = Buffer.from([0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
  const acCounts = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
  const dht = Buffer.concat([Buffer.from([0x00]), dcCounts, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), Buffer.from([0x10]), acCounts, Buffer.from([0x00])])
  const sos = Buffer.from([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])
  const bits = new BitWriter()
  for (const level of ycc) {
    const dc = Math.max(-1024, Math.min(1016, Math.round((level - 128) * 8)))
    const category = dc === 0 ? 0 : Math.floor(Math.log2(Math.abs(dc))) + 1
    bits.put(category, 4) // canonical code of symbol k is k on 4 bits
    if (category > 0) bits.put(dc > 0 ? dc : dc + (1 << category) - 1, category)
    bits.put(0, 1) // EOB
  }
  const comment = Buffer.from(`mediagate emulator sample ${nonce}`, 'latin1')
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, jfif),
    segment(0xfe, comment),
    segment(0xdb, dqt),
    segment(0xc0, sof),
    segment(0xc4, dht),
    segment(0xda, sos),
    bits.finish(),
    Buffer.from([0xff, 0xd9]),
  ])
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

function oggPage(packet: Buffer, sequence: number, flags: number, granule: number): Buffer {
  const lacing: number[] = []
  for (let left = packet.length; ; left -= 255) {
    lacing.push(Math.min(left, 255))
    if (left < 255) break
  }
  const header = Buffer.alloc(27)
  header.write('OggS', 0, 'latin1')
  header[5] = flags
  header.writeBigUInt64LE(BigInt(granule), 6)
  header.writeUInt32LE(0x6d67, 14) // stream serial number
  header.writeUInt32LE(sequence, 18)
  header[26] = lacing.length
  const page = Buffer.concat([header, Buffer.from(lacing), packet])
  page.writeUInt32LE(oggCrc(page), 22)
  return page
}

/** Ogg Opus, mono, one 20 ms silent frame: what a WhatsApp voice note's container looks like. */
export function sampleOgg(nonce = 0): Buffer {
  const head = Buffer.concat([Buffer.from('OpusHead', 'latin1'), Buffer.from([1, 1]), Buffer.from([0x38, 0x01]), Buffer.from([0x80, 0xbb, 0, 0]), Buffer.from([0, 0, 0])])
  const vendor = Buffer.from(`mediagate emulator ${nonce}`, 'utf8')
  const tags = Buffer.concat([Buffer.from('OpusTags', 'latin1'), le32(vendor.length), vendor, Buffer.alloc(4)])
  const silence = Buffer.from([0xf8, 0xff, 0xfe])
  return Buffer.concat([oggPage(head, 0, 0x02, 0), oggPage(tags, 1, 0, 0), oggPage(silence, 2, 0x04, 312 + 960)])
}

export function samplePdf(nonce = 0): Buffer {
  const text = `BT /F1 12 Tf 20 40 Td (mediagate emulator sample ${nonce}) Tj ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 80] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  let out = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((body, i) => {
    offsets.push(out.length)
    out += `${i + 1} 0 obj\n${body}\nendobj\n`
  })
  const xref = out.length
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}

/** An ISO-BMFF skeleton (`ftyp` + `mdat`): sniffers see video/mp4; it holds no playable track. */
export function sampleMp4(nonce = 0): Buffer {
  const box = (type: string, data: Buffer) => Buffer.concat([u32(8 + data.length), Buffer.from(type, 'latin1'), data])
  const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2avc1mp41', 'latin1'))
  return Buffer.concat([ftyp, box('free', Buffer.alloc(0)), box('mdat', Buffer.from(`mediagate emulator sample ${nonce}`, 'latin1'))])
}

/** A 1x1 lossless WebP (the classic feature-detection image). */
export function sampleWebp(): Buffer {
  return Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64')
}

export type SampleKind = 'jpeg' | 'png' | 'ogg' | 'pdf' | 'mp4' | 'webp'

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
      return sampleWebp()
  }
}
