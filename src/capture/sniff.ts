/**
 * Sniffs the real type from the first bytes while they stream past, without holding more than
 * the few KB file-type needs. The declared type is kept beside it; see chooseServedType.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { fileTypeFromBuffer } from 'file-type'
import { baseType } from '../serve/content-headers.js'

const HEAD_BYTES = 4100

export class HeadTap extends Transform {
  private chunks: Buffer[] = []
  private length = 0

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.length < HEAD_BYTES) {
      const need = HEAD_BYTES - this.length
      const part = chunk.length > need ? chunk.subarray(0, need) : chunk
      this.chunks.push(Buffer.from(part))
      this.length += part.length
    }
    done(null, chunk)
  }

  head(): Buffer {
    return Buffer.concat(this.chunks, this.length)
  }
}

export async function sniffMime(head: Buffer): Promise<string | null> {
  if (head.length === 0) return null
  return (await fileTypeFromBuffer(head))?.mime ?? null
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
