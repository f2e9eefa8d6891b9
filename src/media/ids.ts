/**
 * Public ids: a prefix and a ULID (48-bit millisecond time + 80 random bits, Crockford base32,
 * 26 characters). They sort as strings in the order they were made, so "newest first by id" is
 * "newest first by receipt" and the primary key doubles as the listing order. Within a process
 * ids are strictly increasing even within one millisecond or when the clock steps back.
 */
import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const TIME_CHARS = 10
const RANDOM_CHARS = 16
const RANDOM_MAX = (1n << 80n) - 1n
const ULID_PATTERN = '[0-9A-HJKMNP-TV-Z]{26}'

export const MEDIA_ID_PREFIX = 'med_'
export const WEBHOOK_ID_PREFIX = 'whk_'

const MEDIA_ID = new RegExp(`^${MEDIA_ID_PREFIX}${ULID_PATTERN}$`)
const WEBHOOK_ID = new RegExp(`^${WEBHOOK_ID_PREFIX}${ULID_PATTERN}$`)

let lastTime = -1
let lastRandom = 0n

/** A ULID; `now` is only for tests. Monotonic per process. */
export function ulid(now: number = Date.now()): string {
  let time = Math.max(Math.floor(now), lastTime)
  let random: bigint
  if (time === lastTime) {
    random = lastRandom + 1n
    // 2^80 ids in one millisecond cannot happen; borrow the next millisecond rather than wrap.
    if (random > RANDOM_MAX) {
      time += 1
      random = randomBits()
    }
  } else {
    random = randomBits()
  }
  lastTime = time
  lastRandom = random
  return encode(BigInt(time), TIME_CHARS) + encode(random, RANDOM_CHARS)
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

function randomBits(): bigint {
  // Top bit clear: leaves room to increment many times within one millisecond.
  const bytes = randomBytes(10)
  bytes[0] = bytes[0]! & 0x7f
  return BigInt(`0x${bytes.toString('hex')}`)
}

function encode(value: bigint, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)]! + out
    value >>= 5n
  }
  return out
}
