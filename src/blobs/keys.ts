import { MediagateError } from '../errors.js'

/** Naming rules shared by the stores, beyond `blobKeyFor` in the contract. */

const BLOB_KEY = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})$/

/** The prefix every content-addressed blob lives under; `list()` walks only this. */
export const BLOB_PREFIX = 'sha256/'
/** Where `quarantine()` moves blobs that failed verification; never listed, never deleted by us. */
export const QUARANTINE_PREFIX = 'quarantine/'

/** The sha256 a key names (`sha256/ab/cd/<hex>` with matching fan-out), or undefined. */
export function sha256FromKey(key: string): string | undefined {
  const m = BLOB_KEY.exec(key)
  if (!m || !m[3]?.startsWith(`${m[1]}${m[2]}`)) return undefined
  return m[3]
}

/**
 * Where a quarantined blob goes: the original key under `quarantine/`, suffixed with the time so
 * that a blob re-captured and corrupted again does not overwrite the first piece of evidence.
 */
export function quarantineKeyFor(key: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '')
  return `${QUARANTINE_PREFIX}${key}.${stamp}`
}

/** The content key a quarantine key was made from (`quarantine/<key>.<time>`), or undefined. */
export function quarantinedFrom(quarantineKey: string): string | undefined {
  if (!quarantineKey.startsWith(QUARANTINE_PREFIX)) return undefined
  const key = quarantineKey.slice(QUARANTINE_PREFIX.length).replace(/\.[0-9TZ]+$/, '')
  return sha256FromKey(key) === undefined ? undefined : key
}

/** Throws unless `key` is a quarantine key (the only place copies aside may go). */
export function assertQuarantineKey(key: string): void {
  if (quarantinedFrom(key) === undefined) throw new MediagateError('bad_request', `${key} is not a quarantine key`)
}
