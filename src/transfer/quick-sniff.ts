/**
 * The common media types told from their first bytes without file-type, which builds a
 * tokenizer and walks its checks through promises for every head it is given. Each signature
 * here answers only where file-type 21 (`detectConfident`, on the same head) answers the same:
 * file-type's checks are tried in order and the first that matches decides, so a signature is
 * taken only when no check file-type makes before it can match those bytes (the comment on each
 * says why). Anything else, or any doubt, is left to file-type: `undefined` means "ask it".
 * test/transfer/quick-sniff.test.ts compares the two on real files and on hostile prefixes; a
 * file-type upgrade must pass it again.
 */

/** Shorter heads go to file-type: it reads past its first 32 bytes for some types, zeros beyond the end. */
const MIN_HEAD = 64
/** PNG chunks walked before giving up (file-type stops at 512). */
const MAX_PNG_CHUNKS = 64

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/**
 * The ISO BMFF major brands answered here, as file-type maps them (its `ftyp` switch). Four
 * printable bytes each, so its NUL replacement and trim change nothing but the spaces.
 */
const FTYP_BRANDS: ReadonlyMap<string, string> = new Map([
  ['isom', 'video/mp4'],
  ['iso2', 'video/mp4'],
  ['iso4', 'video/mp4'],
  ['iso5', 'video/mp4'],
  ['iso6', 'video/mp4'],
  ['mp41', 'video/mp4'],
  ['mp42', 'video/mp4'],
  ['avc1', 'video/mp4'],
  ['dash', 'video/mp4'],
  ['mmp4', 'video/mp4'],
  ['MSNV', 'video/mp4'],
  ['3gp4', 'video/3gpp'],
  ['3gp5', 'video/3gpp'],
  ['3gp6', 'video/3gpp'],
  ['3gp7', 'video/3gpp'],
  ['3ge6', 'video/3gpp'],
  ['3gg6', 'video/3gpp'],
  ['3g2a', 'video/3gpp2'],
  ['3g2b', 'video/3gpp2'],
  ['3g2c', 'video/3gpp2'],
  ['qt  ', 'video/quicktime'],
  ['M4A ', 'audio/x-m4a'],
  ['M4V ', 'video/x-m4v'],
  ['heic', 'image/heic'],
  ['mif1', 'image/heif'],
  ['avif', 'image/avif'],
])

/** What file-type's Ogg check says of the first packet's first 8 bytes (at offset 28). */
function oggType(head: Buffer): string {
  if (head.toString('latin1', 28, 36) === 'OpusHead') return 'audio/ogg; codecs=opus'
  const seven = head.toString('latin1', 28, 35)
  if (seven === '\x80theora' || seven === '\x01video\x00') return 'video/ogg'
  if (head.toString('latin1', 28, 33) === '\x7fFLAC' || seven === 'Speex  ' || seven === '\x01vorbis') return 'audio/ogg'
  return 'application/ogg'
}

/**
 * PNG or APNG as file-type's chunk walk decides: IHDR (13 bytes) first, then chunks until IDAT
 * (png) or acTL (apng). Answers only when the walk reaches one of those within the head, every
 * chunk before it whole in it; file-type's other exits (a bad or missing IHDR, a negative length,
 * a chunk running past the head, the head's end) are left to it.
 */
function pngType(head: Buffer): string | undefined {
  let pos = PNG_SIGNATURE.length
  for (let chunk = 0; chunk < MAX_PNG_CHUNKS; chunk++) {
    // file-type reads the next header only while `position + 8 < size`, after the first.
    if (chunk > 0 && !(pos + 8 < head.length)) return undefined
    if (pos + 8 > head.length) return undefined
    const length = head.readInt32BE(pos)
    const type = head.toString('latin1', pos + 4, pos + 8)
    // file-type refuses a negative length before it looks at the type.
    if (length < 0) return undefined
    if (chunk === 0 && (type !== 'IHDR' || length !== 13)) return undefined
    if (type === 'IDAT') return 'image/png'
    if (type === 'acTL') return 'image/apng'
    if (type === 'IHDR' && chunk > 0) return undefined
    const end = pos + 8 + length + 4
    if (end > head.length) return undefined
    pos = end
  }
  return undefined
}

/**
 * The type file-type would sniff from `head`, for JPEG, GIF, PNG/APNG, WebP, ISO BMFF (MP4, 3GP,
 * MOV, M4A, HEIC, AVIF) of the usual brands, Ogg (Opus, Vorbis…) and PDF; undefined for anything
 * else, and for any head it is not certain of.
 */
export function quickSniff(head: Buffer): string | undefined {
  if (head.length < MIN_HEAD) return undefined
  const b0 = head[0]
  // JPEG: file-type's checks before it all start with other bytes (none with 0xFF), and it
  // tells JPEG-LS apart by the fourth byte.
  if (b0 === 0xff) return head[1] === 0xd8 && head[2] === 0xff && head[3] !== 0xf7 ? 'image/jpeg' : undefined
  // GIF: the first three bytes decide; no earlier check starts with 'G'.
  if (b0 === 0x47) return head[1] === 0x49 && head[2] === 0x46 ? 'image/gif' : undefined
  // PDF: '%PDF'; the only earlier check starting with '%' is PostScript's '%!'.
  if (b0 === 0x25) return head.toString('latin1', 0, 4) === '%PDF' ? 'application/pdf' : undefined
  // Ogg: 'OggS'; earlier checks starting with 'O' ('Obj\x01') differ at the second byte.
  if (b0 === 0x4f) return head.toString('latin1', 0, 4) === 'OggS' ? oggType(head) : undefined
  if (b0 === 0x89) return PNG_SIGNATURE.every((byte, i) => head[i] === byte) ? pngType(head) : undefined
  // WebP: 'RIFF' <size, little-endian> 'WEBP'. Before RIFF, file-type checks bytes 4–7 for
  // 'free', 'mdat', 'moov', 'wide' and 'ftyp' (QuickTime, ISO BMFF): a size under 512 MiB
  // (byte 7 below 0x20) cannot spell any of them.
  if (b0 === 0x52) {
    return head.toString('latin1', 0, 4) === 'RIFF' && head[7]! < 0x20 && head.toString('latin1', 8, 12) === 'WEBP' ? 'image/webp' : undefined
  }
  // ISO BMFF: a box size under 256 ('\0\0\0' then one byte) and 'ftyp'. That rules out MPEG-PS
  // ('\0\0\x01\xba') and WebAssembly ('\0asm'), the earlier checks starting with a zero byte.
  if (b0 === 0x00) {
    if (head[1] !== 0 || head[2] !== 0 || head.toString('latin1', 4, 8) !== 'ftyp') return undefined
    return FTYP_BRANDS.get(head.toString('latin1', 8, 12))
  }
  return undefined
}
