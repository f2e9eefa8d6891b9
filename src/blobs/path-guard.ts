/**
 * The one guard every blob key passes through before it becomes a file path or an S3 key.
 * Keys are ours (`sha256/ab/cd/<hex>`, `quarantine/…`), so the rule is a short allowlist rather
 * than a list of known attacks: `/`-separated segments of ASCII letters, digits, `.`, `_` and `-`,
 * none empty, none starting with a dot (so no `.`, `..`, `.tmp` or hidden files), no absolute
 * paths, no backslashes, no control characters, no percent-encoding or look-alike Unicode.
 */
import path from 'node:path'
import { MediagateError } from '../errors.js'

/** S3's limit on a key, which also keeps file paths far below PATH_MAX. */
export const MAX_KEY_LENGTH = 1024
/** NAME_MAX on common filesystems. */
const MAX_SEGMENT_LENGTH = 255
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/

export function isSafeKey(key: unknown): key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return false
  return key.split('/').every((segment) => segment.length <= MAX_SEGMENT_LENGTH && SEGMENT.test(segment))
}

/** Returns the key unchanged, or throws `bad_request` without echoing hostile bytes back. */
export function assertSafeKey(key: unknown): string {
  if (isSafeKey(key)) return key
  const shown = typeof key === 'string' ? JSON.stringify(key.slice(0, 80)) : typeof key
  throw new MediagateError('bad_request', `invalid blob key ${shown}: expected /-separated segments of [A-Za-z0-9._-] not starting with a dot`)
}

/** True when `filePath` resolves strictly inside `directory` (never the directory itself). */
export function isPathInsideDirectory(directory: string, filePath: string): boolean {
  if (filePath.includes('\0')) return false
  const relative = path.relative(path.resolve(directory), path.resolve(filePath))
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)
}

/** The file a key maps to under `root`; the containment check backs up the allowlist. */
export function keyToPath(root: string, key: string): string {
  const base = path.resolve(root)
  const file = path.join(base, ...assertSafeKey(key).split('/'))
  // Both sides are normalized here, so a prefix test is the containment check (this runs for
  // every content request; isPathInsideDirectory's resolve + relative cost more than the rest).
  if (!file.startsWith(base.endsWith(path.sep) ? base : base + path.sep)) {
    throw new MediagateError('bad_request', 'invalid blob key: it resolves outside the store')
  }
  return file
}
