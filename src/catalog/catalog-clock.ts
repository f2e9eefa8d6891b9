/**
 * The clock leases and due times are read against. Processes that share a PostgreSQL catalog
 * must agree on "now", or a worker whose clock runs ahead by more than a lease takes over live
 * leases (two downloads of one media) and one that runs behind leaves expired leases alone. So
 * on PostgreSQL "now" is the database server's clock: its offset from ours is measured with a
 * round trip (half the round trip is the error, well under a lease) and measured again every
 * `resampleMs`, so a clock that jumps is followed within that time. SQLite lives on one
 * machine, where the local clock is everyone's.
 *
 * An offset under `toleranceMs` (default 500 ms) is taken as none: that much is within the
 * measurement's noise on a loaded machine and far below the shortest lease (5 s), and keeping
 * the local clock then keeps times exact to the millisecond as the caller computed them.
 */

export interface CatalogClock {
  /** Milliseconds since the epoch on the catalog's clock. */
  now(): Promise<number>
  /** A time computed on the local clock (e.g. "retry in 30 s") moved onto the catalog's clock. */
  fromLocal(localMs: number): Promise<number>
}

/** The local clock (SQLite; or a caller that knows better). */
export function localCatalogClock(local: () => number = Date.now): CatalogClock {
  return { now: async () => local(), fromLocal: async (ms) => ms }
}

/** Reads the server's time once; resolves with milliseconds since the epoch. */
export type ServerTimeQuery = () => Promise<number>

export function serverCatalogClock(serverTime: ServerTimeQuery, options: { local?: () => number; resampleMs?: number; toleranceMs?: number } = {}): CatalogClock {
  const local = options.local ?? Date.now
  const resampleMs = options.resampleMs ?? 10_000
  const toleranceMs = options.toleranceMs ?? 500
  let offset = 0
  let sampledAt = Number.NEGATIVE_INFINITY
  let sampling: Promise<void> | undefined
  const sample = async () => {
    const before = local()
    const server = await serverTime()
    const after = local()
    const measured = Math.round(server - (before + after) / 2)
    offset = Math.abs(measured) < toleranceMs ? 0 : measured
    sampledAt = after
  }
  const current = async (): Promise<number> => {
    if (local() - sampledAt >= resampleMs) {
      // One sample at a time; callers that arrive meanwhile share it.
      sampling ??= sample().finally(() => (sampling = undefined))
      await sampling
    }
    return offset
  }
  return {
    now: async () => {
      const o = await current()
      return local() + o
    },
    fromLocal: async (ms) => ms + (await current()),
  }
}
