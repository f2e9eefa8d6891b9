/**
 * A pass-through that hashes (sha256) and counts the bytes flowing into a blob store, shared by
 * every store so that "what we stored" and "what we verified" are the same bytes. It fails with
 * `too_large` as soon as the count passes `maxBytes` (stopping the source early), and, when the
 * caller declared a sha256 or size, with `integrity` at the end of the stream, before the end is
 * signalled downstream: a store commits only after `end`, so a mismatch never becomes a blob.
 */
import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { MediagateError } from '../errors.js'

export interface HashingStreamOptions {
  maxBytes?: number
  /** Lowercase or uppercase hex; compared case-insensitively. */
  expectedSha256?: string
  expectedSize?: number
}

const SHA256_HEX = /^[0-9a-f]{64}$/

export class HashingStream extends Transform {
  /** Bytes seen so far. */
  bytes = 0
  private readonly hash: Hash = createHash('sha256')
  private readonly maxBytes: number
  /** The declared sha256, lowercase hex: a store may commit straight under its key. */
  readonly expectedSha256: string | undefined
  readonly expectedSize: number | undefined
  private hex: string | undefined

  constructor(options: HashingStreamOptions = {}) {
    super()
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    this.expectedSha256 = normalizeExpectedSha256(options.expectedSha256)
    this.expectedSize = options.expectedSize
    if (!(this.maxBytes >= 0)) throw new MediagateError('bad_request', `maxBytes must be a non-negative number, got ${String(options.maxBytes)}`)
    if (this.expectedSize !== undefined && !(Number.isSafeInteger(this.expectedSize) && this.expectedSize >= 0)) {
      throw new MediagateError('bad_request', `expectedSize must be a non-negative integer, got ${String(this.expectedSize)}`)
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const refused = this.count(chunk)
    if (refused) callback(refused)
    else callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    callback(this.conclude())
  }

  /**
   * A body read whole into one buffer (transfer's fast case for small bodies): the same count,
   * limit, hash and checks as streaming it through, without the stream. Throws what the stream
   * would have failed with; `digest()` is ready after it. The stream itself is never written then.
   */
  whole(bytes: Buffer): void {
    const refused = this.count(bytes) ?? this.conclude()
    if (refused) throw refused
  }

  /** Counts and hashes one chunk; the error that refuses it, if any. */
  private count(chunk: Buffer): MediagateError | undefined {
    this.bytes += chunk.length
    if (this.bytes > this.maxBytes) return new MediagateError('too_large', `the media is larger than the limit of ${this.maxBytes} bytes`)
    if (this.expectedSize !== undefined && this.bytes > this.expectedSize) return new MediagateError('integrity', `received more than the declared ${this.expectedSize} bytes`)
    this.hash.update(chunk)
    return undefined
  }

  /** At the end: the digest, and the error when it or the count contradicts what was declared. */
  private conclude(): MediagateError | undefined {
    this.hex = this.hash.digest('hex')
    if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      return new MediagateError('integrity', `received ${this.bytes} bytes, the source declared ${this.expectedSize}`)
    }
    if (this.expectedSha256 !== undefined && this.hex !== this.expectedSha256) {
      return new MediagateError('integrity', `the bytes hash to sha256 ${this.hex}, the source declared ${this.expectedSha256}`)
    }
    return undefined
  }

  /** Lowercase hex sha256 of everything that passed; only once the stream has ended. */
  digest(): string {
    if (this.hex === undefined) throw new MediagateError('internal', 'HashingStream.digest() called before the stream ended')
    return this.hex
  }
}

/** Lowercase hex, or throws `bad_request` for anything that is not 64 hex digits. */
export function normalizeExpectedSha256(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const hex = value.toLowerCase()
  if (!SHA256_HEX.test(hex)) throw new MediagateError('bad_request', 'expectedSha256 must be 64 hex digits')
  return hex
}
