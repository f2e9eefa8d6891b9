/**
 * WhatsApp download URLs resolved through Graph, kept in memory for reuse while they live.
 *
 * Proxy serving fetches from Meta on every request; without this, every request was also a Graph
 * lookup with the business token (and Meta throttles lookups per number). A URL lives 5 minutes
 * (Meta), so an entry is kept for at most 4, or less when the URL's own `ext` expiry says so, and
 * concurrent requests for one media share one lookup (each still downloads: their ranges differ).
 * A reused URL that Meta refuses is forgotten by the caller and resolved again (see open-source.ts).
 *
 * Only in memory, per process, bounded: a resolved URL plus the token is the media, so it is never
 * written anywhere, and the key (account, media id) never leaves this map.
 */
import type { MediaInfo } from '../platforms/graph/index.js'

export interface WhatsAppUrlCacheOptions {
  /** Longest an entry is kept. Default 4 minutes: Meta's URLs live 5. */
  maxTtlMs?: number
  /** Entries kept at most; the least recently used go first. Default 10 000 (a few MB). */
  maxEntries?: number
  now?: () => number
}

/** A resolved media, and how to drop it when Meta refused its URL. */
export interface ResolvedUrl {
  info: MediaInfo
  /** True when the lookup was not made for this caller (an earlier or concurrent one's). */
  reused: boolean
  /** Forgets this entry (not one resolved since), so the next resolve looks the media up again. */
  forget(): void
}

interface Entry {
  pending: Promise<MediaInfo>
  /** The signal the lookup runs under (its first caller's). */
  signal: AbortSignal
  /** Infinity while the lookup runs. */
  expiresAt: number
}

const MINUTE = 60_000
/** Kept off the end of a URL's own expiry: a download started just before it must still get its headers. */
const SAFETY_MS = MINUTE
/** Bounded: a caller whose shared lookup keeps being aborted by others gives up after this many. */
const MAX_JOINS = 3

export class WhatsAppUrlCache {
  private readonly entries = new Map<string, Entry>()
  private readonly maxTtlMs: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor(options: WhatsAppUrlCacheOptions = {}) {
    this.maxTtlMs = options.maxTtlMs ?? 4 * MINUTE
    this.maxEntries = options.maxEntries ?? 10_000
    this.now = options.now ?? Date.now
  }

  get size(): number {
    return this.entries.size
  }

  /**
   * The media's URL and what Meta declared: a live entry's, the lookup already running for it,
   * or `lookup` run now (under this caller's signal) and kept for the others. A failed lookup is
   * not kept. Each caller waits only as long as its own signal allows.
   */
  async resolve(accountId: string | null, mediaId: string, lookup: (signal: AbortSignal) => Promise<MediaInfo>, signal: AbortSignal): Promise<ResolvedUrl> {
    const key = keyOf(accountId, mediaId)
    for (let join = 1; ; join++) {
      const found = this.live(key)
      const entry = found ?? this.start(key, lookup, signal)
      try {
        const info = await untilAborted(entry.pending, signal)
        return { info, reused: found !== undefined, forget: () => this.drop(key, entry) }
      } catch (err) {
        // The shared lookup died with the caller that started it (its client left, its deadline
        // passed); this caller is still waiting, so it looks up for itself.
        const ownLookupAborted = entry.signal !== signal && entry.signal.aborted && !signal.aborted
        if (!ownLookupAborted || join >= MAX_JOINS) throw err
      }
    }
  }

  /** Forgets what is kept for this media (its bytes failed what Meta declared: ask Meta again next time). */
  forgetMedia(accountId: string | null, mediaId: string): void {
    this.entries.delete(keyOf(accountId, mediaId))
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key)
      return undefined
    }
    // Map order is recency: re-inserted at the end, the least recently used stay first.
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry
  }

  private start(key: string, lookup: (signal: AbortSignal) => Promise<MediaInfo>, signal: AbortSignal): Entry {
    const startedAt = this.now()
    const entry: Entry = { pending: lookup(signal), signal, expiresAt: Infinity }
    this.entries.set(key, entry)
    this.evict()
    entry.pending.then(
      (info) => {
        const ttl = Math.min(this.maxTtlMs, ownLifetimeMs(info.url, startedAt))
        if (ttl > 0) entry.expiresAt = startedAt + ttl
        else this.drop(key, entry)
      },
      () => this.drop(key, entry),
    )
    return entry
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key)
  }

  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) return
      this.entries.delete(key)
    }
  }
}

function keyOf(accountId: string | null, mediaId: string): string {
  return `${accountId ?? ''}\u0000${mediaId}`
}

/**
 * How long a URL may still be used, from its `ext` parameter (Unix seconds, when it is one: the
 * lookaside URLs carry their expiry there), minus a safety margin of at most a minute and at most
 * a fifth of what is left. Infinity when the URL says nothing; 0 or less when it is already too old
 * (or our clock runs ahead of Meta's), and then it is not kept at all.
 */
export function ownLifetimeMs(url: string, from: number): number {
  let ext: string | null
  try {
    ext = new URL(url).searchParams.get('ext')
  } catch {
    return Infinity
  }
  if (!ext || !/^\d{9,11}$/.test(ext)) return Infinity
  const left = Number(ext) * 1000 - from
  return left - Math.min(SAFETY_MS, left / 5)
}

/** `promise`, or the signal's reason as soon as it aborts (the promise itself runs on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
