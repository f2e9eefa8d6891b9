/**
 * Malware scanning's cost: the capture rate of small media (webhook to `stored`) with scanning on
 * (a real clamd on loopback, MEDIAGATE_CLAMAV_URL) against the same gateway with scanning off,
 * in the same run, on the same emulator. Each scan reads the stored blob back and streams it to
 * clamd over INSTREAM; clamd shares the machine's cores with the gateway and the emulator.
 */
import { startEmulator } from '../../src/emulator/index.js'
import { clamdAvailable, startClamd, type TestClamd } from '../../test/helpers/clamd.js'
import { captureAll, type CaptureStats } from '../lib/capture-run.js'
import type { BenchContext } from '../lib/context.js'
import { ACCESS_TOKEN, APP_SECRET, startGateway } from '../lib/gateway-child.js'
import { GatewayClient } from '../lib/gateway-client.js'
import { registerMedia } from '../lib/media-set.js'
import { row } from '../lib/report.js'
import type { Scenario } from '../lib/scenario.js'

const SIZE = 50 * 1024
const WARM_UP = 40

async function captureRun(ctx: BenchContext, emulatorUrl: string, emulator: Awaited<ReturnType<typeof startEmulator>>, label: string, count: number, env: Record<string, string>): Promise<CaptureStats & { scans: string }> {
  const gateway = await startGateway(ctx, { label, emulatorUrl, env })
  const client = new GatewayClient(gateway.url)
  try {
    await captureAll(client, registerMedia(emulator, { count: WARM_UP, size: SIZE, mixed: true }), 60_000)
    const set = registerMedia(emulator, { count, size: SIZE, mixed: true })
    ctx.log(`  mediagate, ${label}: ${count} media`)
    const stats = await captureAll(client, set, 300_000)
    const metrics = await client.metrics().catch(() => '')
    const scans = metrics.split('\n').filter((l) => l.startsWith('mediagate_scans_total')).join('; ')
    return { ...stats, scans }
  } finally {
    await client.close()
    await gateway.discard()
  }
}

export const scanning: Scenario = {
  name: 'scanning',
  title: 'Capture with malware scanning on (clamd) against off',
  async run(ctx) {
    if (!clamdAvailable()) throw new Error('clamd is not installed (apt-get install clamav-daemon clamav)')
    const count = ctx.quick ? 200 : 2_000
    const clamd: TestClamd = await startClamd({ signatures: [{ name: 'Mediagate.Bench', bytes: Buffer.from('mediagate bench: never sent') }] })
    const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
    try {
      // Off first, then on: the same emulator, the same sizes, one after the other.
      const off = await captureRun(ctx, emulator.url, emulator, 'scanning-off', count, {})
      const on = await captureRun(ctx, emulator.url, emulator, 'scanning-on', count, { MEDIAGATE_CLAMAV_URL: clamd.url })
      const problems = [off, on].filter((s) => s.failed).map((s) => `${s.failed} failed: ${JSON.stringify(s.failures)}`)
      return {
        scenario: 'scanning',
        rows: [
          row({
            scenario: 'scanning',
            metric: `media/s, ${count} × 50 KiB, no added latency, scanning on vs off`,
            unit: 'media/s',
            value: on.mediaPerSecond,
            baseline: { name: 'the same gateway, scanning off', value: off.mediaPerSecond },
            note: `p50 received → stored ${Math.round(on.latencyMs.p50)} ms on, ${Math.round(off.latencyMs.p50)} ms off${problems.length ? `; ${problems.join('; ')}` : ''}`,
          }),
        ],
        details: { count, size: SIZE, off, on },
        notes: ['Gateway: role all, SQLite + disk, default concurrency. clamd 1.4 (Debian) on loopback TCP with a one-signature database of its own (the engine still runs its file-type parsers on every stream).'],
      }
    } finally {
      await emulator.close()
      await clamd.close()
    }
  },
}
