/**
 * One timed capture run against a gateway: post the set's webhooks, wait until nothing is pending,
 * read the records back, and measure from the first webhook sent to the last `stored_at`.
 */
import type { MediaJson } from '../../src/serve/present-media.js'
import { processCpuMs } from './cpu.js'
import type { GatewayClient } from './gateway-client.js'
import type { MediaSet } from './media-set.js'
import { type Distribution, distribution, rate } from './stats.js'

export interface CaptureStats {
  count: number
  stored: number
  failed: number
  /** First webhook sent → last record stored. */
  elapsedMs: number
  mediaPerSecond: number
  bytesPerSecond: number
  /** received_at → stored_at of each stored record, ms. */
  latencyMs: Distribution
  /** Error codes of failed records, with counts. */
  failures: Record<string, number>
  /** CPU the gateway process spent from the first webhook to settled (all threads), when measured. */
  cpuMs?: number
  /** cpuMs ÷ stored. */
  cpuMsPerMedia?: number
}

/** Records of this set only (the gateway may hold warm-up or earlier runs' records too). */
export function recordsOf(records: MediaJson[], set: MediaSet): MediaJson[] {
  return records.filter((r) => set.messageIds.has(r.message_id))
}

export function captureStats(records: MediaJson[], set: MediaSet, startedAt: number): CaptureStats {
  const ours = recordsOf(records, set)
  if (ours.length !== set.messageIds.size) throw new Error(`expected ${set.messageIds.size} records, the gateway has ${ours.length}`)
  const stored = ours.filter((r) => r.status === 'stored' && r.stored_at)
  const failures: Record<string, number> = {}
  for (const r of ours) if (r.status !== 'stored') failures[r.error?.code ?? r.status] = (failures[r.error?.code ?? r.status] ?? 0) + 1
  const end = Math.max(...stored.map((r) => Date.parse(r.stored_at!)))
  const elapsedMs = stored.length ? end - startedAt : Number.NaN
  const bytes = stored.reduce((sum, r) => sum + (r.size ?? 0), 0)
  return {
    count: ours.length,
    stored: stored.length,
    failed: ours.length - stored.length,
    elapsedMs,
    mediaPerSecond: rate(stored.length, elapsedMs),
    bytesPerSecond: rate(bytes, elapsedMs),
    latencyMs: distribution(stored.map((r) => Date.parse(r.stored_at!) - Date.parse(r.received_at))),
    failures,
  }
}

/**
 * Posts every webhook (16 at a time, as Meta's senders do in parallel) and waits for capture.
 * With `cpuPid` (the gateway's), also the CPU it spent until settled, intake included and the
 * reading back of the records excluded.
 */
export async function captureAll(client: GatewayClient, set: MediaSet, timeoutMs: number, o: { cpuPid?: number } = {}): Promise<CaptureStats> {
  const startedAt = Date.now()
  const cpuStart = o.cpuPid === undefined ? 0 : processCpuMs(o.cpuPid)
  await client.postAll(set.webhooks, 16)
  await client.waitSettled(timeoutMs)
  const cpuMs = o.cpuPid === undefined ? undefined : processCpuMs(o.cpuPid) - cpuStart
  const stats = captureStats(await client.listAll(), set, startedAt)
  return cpuMs === undefined ? stats : { ...stats, cpuMs, cpuMsPerMedia: cpuMs / stats.stored }
}
