/**
 * Public ids: a prefix and a ULID (48-bit millisecond time + 80 random bits, Crockford base32,
 * 26 characters). They sort as strings in the order they were made, so "newest first by id" is
 * "newest first by receipt" and the primary key doubles as the listing order. Within a process
 * ids are strictly increasing even within one millisecond or when the clock steps back.
 */
import { randomFillSync } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const TIME_CHARS = 10
const RANDOM_CHARS = 16
const ULID_PATTERN = '[0-9A-HJKMNP-TV-Z]{26}'

export const MEDIA_ID_PREFIX = 'med_'
export const WEBHOOK_ID_PREFIX = 'whk_'

const MEDIA_ID = new RegExp(`^${MEDIA_ID_PREFIX}${ULID_PATTERN}$`)
const WEBHOOK_ID = new RegExp(`^${WEBHOOK_ID_PREFIX}${ULID_PATTERN}$`)

let lastTime = -1
/**
 * The last id's 80 random bits as 16 base-32 digits, most significant first: incremented in
 * place within a millisecond and encoded digit by digit, which costs a fraction of doing the same
 * through a BigInt (two ids per webhook on intake's path).
 */
const lastRandom = new Uint8Array(RANDOM_CHARS)
/** Random bytes drawn a few hundred ids at a time: one call into OpenSSL per refill, not per id. */
const pool = Buffer.allocUnsafe(RANDOM_CHARS * 256)
let poolOffset = pool.length

/** A ULID; `now` is only for tests. Monotonic per process. */
export function ulid(now: number = Date.now()): string {
  let time = Math.max(Math.floor(now), lastTime)
  if (time !== lastTime) {
    randomDigits()
  } else if (!increment()) {
    // 2^79 ids in one millisecond cannot happen; borrow the next millisecond rather than wrap.
    time += 1
    randomDigits()
  }
  lastTime = time
  let out = ''
  for (let i = TIME_CHARS - 1, t = time; i >= 0; i--, t = Math.floor(t / 32)) out = ALPHABET[t % 32]! + out
  for (let i = 0; i < RANDOM_CHARS; i++) out += ALPHABET[lastRandom[i]!]!
  return out
}

/** `med_` + ULID: the stable public id of a media record. */
export function newMediaId(now?: number): string {
  return MEDIA_ID_PREFIX + ulid(now)
}

/** `whk_` + ULID: the id of a recorded webhook body. */
export function newWebhookId(now?: number): string {
  return WEBHOOK_ID_PREFIX + ulid(now)
}

export function isMediaId(value: string): boolean {
  return MEDIA_ID.test(value)
}

export function isWebhookId(value: string): boolean {
  return WEBHOOK_ID.test(value)
}

/** The millisecond an id (with or without its prefix) was made. */
export function idTime(id: string): Date {
  const time = id.slice(-26, -RANDOM_CHARS)
  let ms = 0
  for (const char of time) ms = ms * 32 + ALPHABET.indexOf(char)
  return new Date(ms)
}

function randomDigits(): void {
  if (poolOffset === pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  // A byte's low five bits are uniform; the top bit clear leaves room to increment many times within one millisecond.
  for (let i = 0; i < RANDOM_CHARS; i++) lastRandom[i] = pool[poolOffset + i]! & 31
  lastRandom[0] = lastRandom[0]! & 15
  poolOffset += RANDOM_CHARS
}

/** Adds one to the random digits; false when they wrapped around to zero. */
function increment(): boolean {
  for (let i = RANDOM_CHARS - 1; i >= 0; i--) {
    if (lastRandom[i]! < 31) {
      lastRandom[i] = lastRandom[i]! + 1
      return true
    }
    lastRandom[i] = 0
  }
  return false
}
