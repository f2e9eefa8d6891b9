/**
 * Values crossing a worker-thread boundary are structured clones: a Buffer arrives as a plain
 * Uint8Array, which better-sqlite3 does not bind and callers do not expect. Turn them back.
 *
 * The clone is fresh and ours, so it is revived in place: a batch of records is walked once
 * without allocating a copy of every object (on the intake path that copy cost more than the
 * clone itself).
 */
export function reviveBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return asBuffer(value)
  if (value !== null && typeof value === 'object') reviveInPlace(value as Record<string, unknown>)
  return value
}

function reviveInPlace(container: Record<string, unknown> | unknown[]): void {
  if (container instanceof Date || Buffer.isBuffer(container)) return
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) container[i] = revive(container[i])
    return
  }
  for (const key in container) container[key] = revive(container[key])
}

function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return asBuffer(value)
  reviveInPlace(value as Record<string, unknown>)
  return value
}

function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}
