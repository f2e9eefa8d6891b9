/**
 * Careful reads of untrusted JSON. Every value that ends up in a media record passes through
 * one of these checks, so a record never carries a number where an id belongs, a `javascript:`
 * URL, a NUL byte (PostgreSQL refuses them in text) or a megabyte of caption.
 *
 * Optional fields that are malformed become null with a note: losing a caption is better than
 * losing the media. Required fields are checked by the caller, which skips the item.
 */
import type { ParseContext } from './parse-context.js'

export type Json = Record<string, unknown>

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Own properties only: a key like `constructor` or `__proto__` never reaches Object.prototype. */
export function own(obj: Json, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined
}

const ID = /^[\x21-\x7e]{1,1024}$/

/**
 * Meta's ids are strings of printable ASCII. A number is accepted only while it is exact: page
 * and IG account ids are larger than 2^53 and lose digits once parsed as numbers.
 */
export function asId(value: unknown): string | null {
  if (typeof value === 'string') return ID.test(value) ? value : null
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
  return null
}

const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/

/** A type name such as `ig_reel` or `story_mention`: short, and nothing that needs escaping. */
export function asToken(value: unknown): string | null {
  return typeof value === 'string' && TOKEN.test(value) ? value : null
}

const URL_CHARS = /^[\x21-\x7e]{1,8192}$/

/** An absolute http(s) URL without credentials, exactly as sent (signed CDN URLs must not change). */
export function asHttpUrl(value: unknown): string | null {
  if (typeof value !== 'string' || !URL_CHARS.test(value)) return null
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  if (url.username !== '' || url.password !== '' || url.hostname === '') return null
  return value
}

const MIME = /^[A-Za-z0-9!#$&^_.+-]{1,127}\/[A-Za-z0-9!#$&^_.+-]{1,127}( *;[\x20-\x7e]*)?$/
const DIGEST = /^[A-Za-z0-9+/=_-]{16,128}$/

/** Optional-field reads for one JSON object; malformed values are noted under `path`. */
export class Fields {
  constructor(
    readonly obj: Json,
    readonly path: string,
    private readonly ctx: ParseContext,
  ) {}

  get(key: string): unknown {
    return own(this.obj, key)
  }

  /** null when absent; null and a note when present but not what `check` accepts. */
  private optional<T>(key: string, check: (v: unknown) => T | null, expected: string): T | null {
    const value = own(this.obj, key)
    if (value === undefined || value === null) return null
    const checked = check(value)
    if (checked === null) this.ctx.note(this.path, `\`${key}\` is not ${expected}; ignored`)
    return checked
  }

  id(key: string): string | null {
    return this.optional(key, asId, 'an id')
  }

  url(key: string): string | null {
    return this.optional(key, asHttpUrl, 'an http(s) URL')
  }

  mime(key: string): string | null {
    return this.optional(key, (v) => (typeof v === 'string' && v.length <= 255 && MIME.test(v) ? v : null), 'a MIME type')
  }

  digest(key: string): string | null {
    return this.optional(key, (v) => (typeof v === 'string' && DIGEST.test(v) ? v : null), 'a hex or base64 digest')
  }

  bool(key: string): boolean | null {
    return this.optional(key, (v) => (typeof v === 'boolean' ? v : null), 'a boolean')
  }

  /** Free text (captions): NUL bytes removed, at most `max` characters. */
  text(key: string, max: number): string | null {
    return this.optional(key, (v) => (typeof v === 'string' && v.length <= max ? v.replace(/\0/g, '') : null), `a string of at most ${max} characters`)
  }

  /** A file name: control characters removed (they would break a Content-Disposition header). */
  filename(key: string): string | null {
    const name = this.optional(key, (v) => (typeof v === 'string' && v.length <= 1024 ? v.replace(/[\x00-\x1f\x7f]/g, '') : null), 'a file name')
    return name === '' ? null : name
  }

  /** An array; null when absent, null and a note when it is something else. Callers bound the walk. */
  list(key: string): unknown[] | null {
    return this.optional(key, (v) => (Array.isArray(v) ? v : null), 'an array')
  }

  /** A unix time in `unit`s, given as a number or a string of digits, within 2000–2200. */
  time(key: string, unit: 's' | 'ms'): Date | null {
    return this.optional(key, (v) => toDate(v, unit), 'a unix timestamp')
  }
}

const EARLIEST = Date.UTC(2000, 0, 1)
const LATEST = Date.UTC(2200, 0, 1)

function toDate(value: unknown, unit: 's' | 'ms'): Date | null {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && /^\d{1,16}$/.test(value)) n = Number(value)
  else return null
  if (!Number.isSafeInteger(n)) return null
  const ms = unit === 's' ? n * 1000 : n
  return ms >= EARLIEST && ms < LATEST ? new Date(ms) : null
}
