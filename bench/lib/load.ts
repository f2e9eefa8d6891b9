/**
 * autocannon, wrapped: a bounded run (duration, and at most `maxRequests`) against a loopback URL,
 * returning the figures the report uses. Requests that are not 2xx are counted and reported,
 * never silently averaged in as if they were successes.
 */
import autocannon from 'autocannon'
import { loopbackUrl } from './loopback.js'

export interface LoadOptions {
  url: string
  method?: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  /** Called for every request to produce a fresh body and headers (unique ids, signatures). */
  nextRequest?: () => { body: Buffer; headers: Record<string, string> }
  connections: number
  durationSeconds: number
  /** Fixed-rate mode: requests per second over all connections. */
  overallRate?: number
  /** Hard cap on requests, so no run is unbounded even if the duration logic misbehaved. */
  maxRequests: number
}

export interface LoadResult {
  requests: number
  /** Mean 2xx requests per second. */
  rps: number
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number }
  non2xx: number
  errors: number
  timeouts: number
  bytesPerSecond: number
  durationSeconds: number
  /** Paced runs: how late, at worst, the sender issued a request (its lateness is in the latencies). */
  senderLagMs?: number
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const url = loopbackUrl(o.url)
  const request: autocannon.Request = { method: o.method ?? 'GET', path: o.path, ...(o.headers ? { headers: o.headers } : {}) }
  if (o.nextRequest) {
    const next = o.nextRequest
    request.setupRequest = (req) => {
      const { body, headers } = next()
      return { ...req, body, headers: { ...req.headers, ...headers } }
    }
  }
  const result = await autocannon({
    url,
    connections: o.connections,
    duration: o.durationSeconds,
    maxOverallRequests: o.maxRequests,
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    requests: [request],
    timeout: 10,
  })
  const ok = result['2xx']
  return {
    requests: result.requests.total,
    rps: ok / result.duration,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    bytesPerSecond: result.throughput.mean,
    durationSeconds: result.duration,
  }
}

/** Throws when a load run saw failures: a fast server that answers 401 is no result at all. */
export function assertClean(name: string, r: LoadResult): void {
  if (r.non2xx > 0 || r.errors > 0 || r.requests === 0) {
    throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors (${r.timeouts} timeouts) of ${r.requests} requests`)
  }
}
