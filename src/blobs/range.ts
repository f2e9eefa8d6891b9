import { MediagateError } from '../errors.js'
import type { ByteRange } from './blob-store.js'

/** Rejects ranges no HTTP `Range` header could have produced; serve resolves them first. */
export function checkRange(range: ByteRange): void {
  const { start, end } = range
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new MediagateError('bad_request', `invalid byte range ${String(start)}-${String(end)}`, { status: 416 })
  }
}
