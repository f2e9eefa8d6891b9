/**
 * Re-hashing a stored blob, for `mediagate verify`: read it back in full (streamed, bounded
 * memory) and compare with the sha256 its key names and, when the catalog knows it, the size.
 * A blob that fails is reported, not touched: the caller decides to `quarantine` it.
 */
import { pipeline } from 'node:stream/promises'
import { isMediagateError } from '../errors.js'
import type { BlobStore } from './blob-store.js'
import { HashingStream } from './hashing-stream.js'
import { sha256FromKey } from './keys.js'
import { nullSink } from './null-sink.js'

export interface BlobVerification {
  key: string
  /** `ok`: bytes match; `missing`: no blob under the key; `corrupt`: hash or size differ. */
  status: 'ok' | 'missing' | 'corrupt'
  /** What was expected: from the key, or the caller's (the catalog's) value. */
  expectedSha256: string | undefined
  expectedSize: number | undefined
  /** What the stored bytes are; absent when missing. */
  sha256?: string
  size?: number
}

export interface VerifyExpectation {
  /** Defaults to the sha256 the key names (`sha256/ab/cd/<hex>`). */
  sha256?: string
  size?: number
}

/** Throws only when the store fails (`storage`); a wrong or absent blob is a result. */
export async function verifyBlob(store: BlobStore, key: string, expected: VerifyExpectation = {}, options: { signal?: AbortSignal } = {}): Promise<BlobVerification> {
  const expectedSha256 = (expected.sha256 ?? sha256FromKey(key))?.toLowerCase()
  const base = { key, expectedSha256, expectedSize: expected.size }
  let body
  try {
    body = await store.read(key)
  } catch (err) {
    if (isMediagateError(err) && err.code === 'not_found') return { ...base, status: 'missing' }
    throw err
  }
  // Hash only: comparing here, not in the stream, so that a mismatch is a result, not an error.
  const hasher = new HashingStream()
  await pipeline(body, hasher, nullSink(), options.signal ? { signal: options.signal } : {})
  const sha256 = hasher.digest()
  const size = hasher.bytes
  const ok = (expectedSha256 === undefined || sha256 === expectedSha256) && (expected.size === undefined || size === expected.size)
  return { ...base, status: ok ? 'ok' : 'corrupt', sha256, size }
}
