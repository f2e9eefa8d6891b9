/**
 * How stored bytes are presented to a browser. Only types a browser renders without running
 * code are served inline, and only when the bytes were sniffed as that kind of type: a file
 * that claims `image/jpeg` but is HTML goes out as an attachment. Everything else (HTML, SVG,
 * PDF, unknown) is an attachment, and `nosniff` is always set.
 */
import { baseType } from '../media/mime.js'

const INLINE_TYPES = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'audio/aac',
  'audio/amr',
  'audio/mpeg',
  'audio/mp4',
  'audio/ogg',
  'audio/opus',
  'audio/wav',
  'audio/x-wav',
  'audio/webm',
  'video/mp4',
  'video/3gpp',
  'video/quicktime',
  'video/webm',
])


export function isInlineSafe(servedType: string | null, sniffedType: string | null): boolean {
  const served = baseType(servedType)
  const sniffed = baseType(sniffedType)
  if (!served || !sniffed || !INLINE_TYPES.has(served) || !INLINE_TYPES.has(sniffed)) return false
  // The declared and sniffed families must agree (image with image, audio/video with audio/video).
  const family = (t: string) => (t.startsWith('image/') ? 'image' : 'av')
  return family(served) === family(sniffed)
}

/**
 * A filename safe to put in a header and to save on any OS: no path separators, no control
 * characters, no traversal, bounded length. Non-ASCII survives through `filename*`.
 */
export function safeFilename(name: string | null | undefined, fallback: string): string {
  const cleaned = (name ?? '')
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[\\/:*?"<>|]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 200)
  return cleaned.length > 0 && !/^\.+$/.test(cleaned) ? cleaned : fallback
}

export function contentDisposition(disposition: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_')
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
}

/** `med_…` plus an extension from the type, for media that came without a name. */
export function defaultFilename(id: string, mime: string | null): string {
  const ext = EXTENSIONS[baseType(mime) ?? '']
  return ext ? `${id}.${ext}` : id
}
