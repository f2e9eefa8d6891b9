/**
 * Fault injection. A spec is set per media id or for `'*'` (every media; a per-id spec wins).
 * Each request is either a lookup (Graph `GET /{media-id}`) or a download (WhatsApp lookaside
 * or CDN); a spec only acts on the phases it has fields for. `times` and `rate` are counted per
 * media id and phase, so `{ downloadStatus: 503, times: 2 }` on `'*'` fails every media's first
 * two downloads, then serves them. Draws use a seeded PRNG, so a soak is reproducible.
 */
import { MediagateError } from '../errors.js'

export interface FaultSpec {
  /** Lookup answers with this HTTP status and a Graph error envelope (e.g. 500, 503, 429). */
  lookupStatus?: number
  /** Download answers with this HTTP status (e.g. 404, 500, 503, 429). */
  downloadStatus?: number
  /** With a 429/503 status: the `Retry-After` header, in seconds. */
  retryAfterSeconds?: number
  /** Lookup answers with this Graph error code (4, 80007, 130429, 190, …), its envelope and status. */
  graphErrorCode?: number
  /** The download URL is already expired: WhatsApp answers 404, the CDN 403. */
  expired?: boolean
  /** Lookup declares a sha256 that does not match the bytes (same encoding). */
  wrongHash?: boolean
  /** Lookup declares `file_size` one byte larger than the bytes. */
  wrongSize?: boolean
  /** Send Content-Length N, then close the connection cleanly at `atByte`. */
  truncate?: boolean
  /** Destroy the socket with a TCP reset at `atByte`. */
  resetMidBody?: boolean
  /** Stop sending at `atByte` for this long, then continue. */
  stallMs?: number
  /** Where truncate/reset/stall happen, counted in the response body; default half of it. */
  atByte?: number
  /**
   * A download without a Range header answers `206 Partial Content` with the first `atByte`
   * bytes (default half), `Content-Range: bytes 0-(atByte-1)/size` and a matching
   * Content-Length: a well-formed partial answer to a request that asked for everything, as
   * Instagram's CDN was seen to send (`atByte` at or past the end: a 206 covering every byte).
   * Requests with a Range are answered as usual.
   */
  partialContent?: boolean
  /** Download answers 302 to this URL (SSRF tests: the CDN redirects to another host). */
  redirectTo?: string
  /** Extra wait before the first byte of matching lookups, downloads and uploads, on top of `latencyMs`. */
  delayMs?: number
  /** Uploads (keyed by the phone number or page id they go to) answer with this Graph error code (131053, 190, …). */
  uploadGraphErrorCode?: number
  /** Uploads answer with this HTTP status and the Graph code that comes with it (500, 503, 429). */
  uploadStatus?: number
  /** Apply only to the first N matching requests per media id and phase, then behave. */
  times?: number
  /** Probability 0..1 that a matching request is faulted. Default 1. */
  rate?: number
  /** Seed of the PRNG behind `rate`. Default 1. */
  seed?: number
}

export type FaultPhase = 'lookup' | 'download' | 'upload'

const PHASE_FIELDS: Record<FaultPhase, readonly (keyof FaultSpec)[]> = {
  lookup: ['lookupStatus', 'graphErrorCode', 'wrongHash', 'wrongSize', 'delayMs'],
  upload: ['uploadGraphErrorCode', 'uploadStatus', 'delayMs'],
  download: ['downloadStatus', 'expired', 'truncate', 'resetMidBody', 'stallMs', 'partialContent', 'redirectTo', 'delayMs'],
}

/** mulberry32: tiny, fast, good enough to decide "fault this request or not". */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Entry {
  spec: Readonly<FaultSpec>
  random: () => number
  applied: Map<string, number>
}

export function validateFaultSpec(spec: FaultSpec): FaultSpec {
  const bad = (why: string) => new MediagateError('bad_request', `fault spec: ${why}`)
  if (typeof spec !== 'object' || spec === null) throw bad('must be an object')
  if (spec.rate !== undefined && !(spec.rate >= 0 && spec.rate <= 1)) throw bad('rate must be between 0 and 1')
  if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times >= 0)) throw bad('times must be a non-negative integer')
  for (const key of ['lookupStatus', 'downloadStatus', 'uploadStatus'] as const) {
    const status = spec[key]
    if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) throw bad(`${key} must be an HTTP status`)
  }
  for (const key of ['stallMs', 'delayMs', 'atByte', 'retryAfterSeconds'] as const) {
    const value = spec[key]
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw bad(`${key} must be a non-negative number`)
  }
  if (spec.redirectTo !== undefined && !/^https?:\/\//.test(spec.redirectTo)) throw bad('redirectTo must be an http(s) URL')
  return { ...spec }
}

export class FaultBook {
  private readonly entries = new Map<string, Entry>()

  set(idOrAll: string, spec: FaultSpec): void {
    const valid = validateFaultSpec(spec)
    this.entries.set(idOrAll, { spec: Object.freeze(valid), random: prng(valid.seed ?? 1), applied: new Map() })
  }

  clear(): void {
    this.entries.clear()
  }

  /** The specs currently set, by key. */
  list(): Record<string, FaultSpec> {
    return Object.fromEntries([...this.entries].map(([key, e]) => [key, { ...e.spec }]))
  }

  /**
   * The fault to apply to this request, or undefined to behave. Consumes one of `times` and
   * one PRNG draw only when the spec has something to do in this phase.
   */
  decide(mediaId: string, phase: FaultPhase): Readonly<FaultSpec> | undefined {
    const entry = this.entries.get(mediaId) ?? this.entries.get('*')
    if (!entry) return undefined
    const { spec } = entry
    if (!PHASE_FIELDS[phase].some((field) => spec[field] !== undefined && spec[field] !== false)) return undefined
    const key = `${phase}\0${mediaId}`
    const applied = entry.applied.get(key) ?? 0
    if (spec.times !== undefined && applied >= spec.times) return undefined
    if (spec.rate !== undefined && spec.rate < 1 && entry.random() >= spec.rate) return undefined
    entry.applied.set(key, applied + 1)
    return spec
  }
}
