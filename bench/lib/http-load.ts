/**
 * A closed-loop GET load generator for large responses: `connections` requests in flight on an
 * undici Pool, bodies counted and dropped as they arrive. autocannon is not used here because
 * it appends every response body to a JavaScript string, which caps it near 45 MB/s on this
 * machine — it would measure itself, not the server. Bounded by duration and by request count.
 */
import { Pool } from 'undici'
import type { LoadResult } from './load.js'
import { loopbackUrl } from './loopback.js'
import { latencySummary } from './stats.js'

export interface GetLoadOptions {
  url: string
  path: string
  headers?: Record<string, string>
  connections: number
  durationSeconds: number
  maxRequests: number
  /** The status every response must have (200, or 206 for a range). */
  expectStatus: number
}

function getOnce(pool: Pool, path: string, headers: Record<string, string>): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    let status = 0
    let bytes = 0
    // The classic handler callbacks: Pool.dispatch in undici 7 still requires onConnect.
    pool.dispatch(
      { path, method: 'GET', headers },
      {
        onConnect: () => {},
        onHeaders: (statusCode) => {
          status = statusCode
          return true
        },
        onData: (chunk) => {
          bytes += chunk.length
          return true
        },
        onComplete: () => resolve({ status, bytes }),
        onError: reject,
      },
    )
  })
}

export async function runGetLoad(o: GetLoadOptions): Promise<LoadResult> {
  const pool = new Pool(loopbackUrl(o.url), { connections: o.connections, pipelining: 1 })
  const latencies: number[] = []
  let requests = 0
  let unexpected = 0
  let errors = 0
  let bytes = 0
  const start = performance.now()
  const deadline = start + o.durationSeconds * 1000
  const lane = async () => {
    while (performance.now() < deadline && requests < o.maxRequests) {
      requests++
      const t = performance.now()
      try {
        const r = await getOnce(pool, o.path, o.headers ?? {})
        latencies.push(performance.now() - t)
        bytes += r.bytes
        if (r.status !== o.expectStatus) unexpected++
      } catch {
        errors++
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: o.connections }, lane))
  } finally {
    await pool.close()
  }
  const seconds = (performance.now() - start) / 1000
  return {
    requests,
    rps: (requests - unexpected - errors) / seconds,
    latencyMs: latencySummary(latencies),
    non2xx: unexpected,
    errors,
    timeouts: 0,
    bytesPerSecond: bytes / seconds,
    durationSeconds: seconds,
  }
}
