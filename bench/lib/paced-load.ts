/**
 * An open-loop load at a fixed rate, for "p99 latency at N requests/s". Request i is due at
 * start + i / rate and is sent then whether or not earlier ones were answered; its latency runs
 * from when it was due, not when it left, so a stalled server or a late sender shows up in the
 * figures instead of hiding (no coordinated omission).
 *
 * autocannon's own rate mode is not used for this: each connection sends back to back until it
 * has made its share for the current second, then waits for the next one, so "1,000 req/s over
 * 32 connections" is a burst at full speed at the start of every second and its percentiles are
 * those of a saturated server.
 */
import { Pool } from 'undici'
import type { LoadResult } from './load.js'
import { loopbackUrl } from './loopback.js'
import { latencySummary } from './stats.js'

export interface PacedLoadOptions {
  url: string
  path: string
  method: 'GET' | 'POST'
  nextRequest: () => { body: Buffer; headers: Record<string, string> }
  /** Requests per second. */
  rate: number
  durationSeconds: number
  /** Most requests in flight (sockets); a request due while all are busy waits and its wait counts. */
  connections: number
}

function send(pool: Pool, o: PacedLoadOptions): Promise<number> {
  const { body, headers } = o.nextRequest()
  return new Promise((resolve, reject) => {
    let status = 0
    pool.dispatch(
      { path: o.path, method: o.method, headers, body },
      {
        onConnect: () => {},
        onHeaders: (statusCode) => {
          status = statusCode
          return true
        },
        onData: () => true,
        onComplete: () => resolve(status),
        onError: reject,
      },
    )
  })
}

export async function runPacedLoad(o: PacedLoadOptions): Promise<LoadResult> {
  const pool = new Pool(loopbackUrl(o.url), { connections: o.connections, pipelining: 1 })
  const total = Math.round(o.rate * o.durationSeconds)
  const interval = 1000 / o.rate
  const latencies: number[] = []
  const inFlight: Promise<void>[] = []
  let non2xx = 0
  let errors = 0
  let maxLagMs = 0
  const start = performance.now()
  try {
    for (let i = 0; i < total; ) {
      const now = performance.now()
      // Everything due by now goes out now; the timer below wakes within a millisecond or so.
      for (; i < total && start + i * interval <= now; i++) {
        const due = start + i * interval
        maxLagMs = Math.max(maxLagMs, now - due)
        inFlight.push(
          send(pool, o).then(
            (status) => {
              latencies.push(performance.now() - due)
              if (status < 200 || status > 299) non2xx++
            },
            () => void errors++,
          ),
        )
      }
      if (i < total) await new Promise((r) => setTimeout(r, Math.max(0, start + i * interval - performance.now())))
    }
    await Promise.all(inFlight)
  } finally {
    await pool.close()
  }
  const seconds = (performance.now() - start) / 1000
  return {
    requests: total,
    rps: (total - non2xx - errors) / seconds,
    latencyMs: latencySummary(latencies),
    non2xx,
    errors,
    timeouts: 0,
    bytesPerSecond: 0,
    durationSeconds: seconds,
    ...(maxLagMs > 0 ? { senderLagMs: maxLagMs } : {}),
  }
}
