/**
 * `Range` header → one inclusive byte range, via range-parser (the parser express and send use).
 * Several ranges (multipart/byteranges) are not worth their complexity for media: like many
 * servers we answer those with the whole body.
 */
import parseRange from 'range-parser'
import type { ByteRange } from '../blobs/blob-store.js'

export type RangeResult = { kind: 'none' } | { kind: 'range'; range: ByteRange } | { kind: 'unsatisfiable' }

export function resolveRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'none' }
  const parsed = parseRange(size, header, { combine: true })
  if (parsed === -1) return { kind: 'unsatisfiable' }
  // -2 (malformed) and non-byte units are ignored, as RFC 9110 allows.
  if (parsed === -2 || parsed.type !== 'bytes' || parsed.length !== 1) return { kind: 'none' }
  const r = parsed[0]!
  return { kind: 'range', range: { start: r.start, end: r.end } }
}
