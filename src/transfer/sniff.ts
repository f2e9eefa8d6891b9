/**
 * The real type of a media, from its first bytes (the common types by quickSniff, the rest by
 * file-type, with the same answers), and the type we serve: the declared type is kept beside the
 * sniffed one, see chooseServedType.
 */
import { fileTypeFromBuffer } from 'file-type'
import { baseType } from '../media/mime.js'
import { quickSniff } from './quick-sniff.js'

/** What file-type needs to recognize a type (its own minimum). */
export const SNIFF_BYTES = 4100

export async function sniffMime(head: Buffer): Promise<string | null> {
  if (head.length === 0) return null
  return quickSniff(head) ?? (await fileTypeFromBuffer(head))?.mime ?? null
}

/**
 * The type we serve: the declared one when the bytes agree with it (it may carry detail such as
 * `codecs=opus`), the sniffed one when they disagree, the declared one when nothing was sniffed.
 */
export function chooseServedType(declared: string | null, sniffed: string | null): string | null {
  if (!sniffed) return declared
  if (!declared) return sniffed
  const d = baseType(declared)
  const s = baseType(sniffed)
  if (d === s) return declared
  // Voice notes: Meta says audio/ogg, file-type may say audio/opus for the same Ogg/Opus bytes.
  if (d && s && d.startsWith('audio/') && s.startsWith('audio/') && [d, s].every((t) => /ogg|opus/.test(t))) return declared
  return sniffed
}
