/**
 * Values crossing a worker-thread boundary are structured clones: a Buffer arrives as a plain
 * Uint8Array, which better-sqlite3 does not bind and callers do not expect. Turn them back.
 */
export function reviveBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (Array.isArray(value)) return value.map(reviveBuffers)
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = reviveBuffers(v)
    return out
  }
  return value
}
