/**
 * Scenario 5, the physical limits every other ratio should be read against: how fast the
 * emulator serves when nothing is written (bodies discarded by a client in its own process), how
 * fast this disk creates small files durably, and its sequential write bandwidth with fsync.
 */
import path from 'node:path'
import { startEmulator } from '../../src/emulator/index.js'
import type { DownloadInput, DownloadOutput } from '../baselines/download-client.js'
import { curlDiscard } from '../baselines/curl-download.js'
import { fileCreationCeiling, writeBandwidth } from '../baselines/file-creation.js'
import { startBaseline } from '../lib/baseline-child.js'
import type { BenchContext } from '../lib/context.js'
import { ACCESS_TOKEN, APP_SECRET } from '../lib/gateway-child.js'
import { registerMedia } from '../lib/media-set.js'
import { row } from '../lib/report.js'
import type { Scenario } from '../lib/scenario.js'
import { MiB, rate } from '../lib/stats.js'

async function discardSmall(ctx: BenchContext, count: number): Promise<DownloadOutput> {
  const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
  const child = await startBaseline(ctx, 'discard-download')
  try {
    const set = registerMedia(emulator, { count, size: 50 * 1024, mixed: true })
    const input: DownloadInput = { jobs: set.jobs, token: ACCESS_TOKEN, dir: '', concurrency: 16, maxMs: 60_000 }
    await child.run(input, 120_000) // warm-up pass over the same media
    return await child.run<DownloadOutput>(input, 120_000)
  } finally {
    await child.stop()
    await emulator.close()
  }
}

/** Large bodies are read by curl (C, no disk): a Node client tops out below what the emulator sends. */
async function discardLarge(files: number, sizeMiB: number): Promise<number> {
  const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET })
  try {
    const set = registerMedia(emulator, { count: files, size: sizeMiB * MiB, mixed: false, mimeType: 'video/mp4' })
    const urls = set.media.map((m) => emulator.whatsappUrl(m.id))
    await curlDiscard(urls, ACCESS_TOKEN, 120_000)
    return rate(files * sizeMiB, await curlDiscard(urls, ACCESS_TOKEN, 120_000))
  } finally {
    await emulator.close()
  }
}

export const emulatorHonesty: Scenario = {
  name: 'emulator',
  title: 'Emulator honesty and the disk: the physical ceilings',
  async run(ctx) {
    const smallCount = ctx.quick ? 300 : 5_000
    const bigMiB = ctx.quick ? 16 : 100
    ctx.log(` emulator ceiling: ${smallCount} × 50 KiB, 16 at once, discarded`)
    const small = await discardSmall(ctx, smallCount)
    ctx.log(` emulator ceiling: 4 × ${bigMiB} MiB at once, curl -o /dev/null`)
    const bigMiBPerSecond = await discardLarge(4, bigMiB)
    const fileCount = ctx.quick ? 300 : 3_000
    ctx.log(` disk: create + write 50 KiB + fsync + rename + fsync dir, ${fileCount} files`)
    const one = await fileCreationCeiling(path.join(ctx.workDir, 'disk-1'), { count: fileCount, size: 50 * 1024, concurrency: 1, maxMs: 20_000 })
    const sixteen = await fileCreationCeiling(path.join(ctx.workDir, 'disk-16'), { count: fileCount, size: 50 * 1024, concurrency: 16, maxMs: 20_000 })
    ctx.log(` disk: write 4 × ${bigMiB} MiB at once, fsync`)
    const bandwidth = await writeBandwidth(path.join(ctx.workDir, 'disk-bw'), { files: 4, size: bigMiB * MiB })
    const s = 'emulator'
    return {
      scenario: s,
      rows: [
        row({ scenario: s, metric: 'emulator ceiling, 50 KiB media, 16 at once, no disk', unit: 'media/s', value: rate(small.completed, small.elapsedMs) }),
        row({ scenario: s, metric: `emulator ceiling, 4 × ${bigMiB} MiB at once, curl, no disk`, unit: 'MiB/s', value: bigMiBPerSecond }),
        row({ scenario: s, metric: 'disk: durable 50 KiB file creations, 1 at a time', unit: 'files/s', value: rate(one.files, one.elapsedMs) }),
        row({ scenario: s, metric: 'disk: durable 50 KiB file creations, 16 at once', unit: 'files/s', value: rate(sixteen.files, sixteen.elapsedMs) }),
        row({ scenario: s, metric: `disk: write 4 × ${bigMiB} MiB at once + fsync`, unit: 'MiB/s', value: rate(bandwidth.bytes / MiB, bandwidth.elapsedMs) }),
      ],
      details: { small, bigMiBPerSecond, fileCreation: { one, sixteen }, bandwidth },
      notes: [
        'The emulator runs in the bench process; the discarding client (undici for small media, curl for large ones) in its own process, as the gateway would be.',
        'A durable file creation here = open, write, fsync, close, rename, fsync the directory: the least that storing one blob so that it survives a power cut costs.',
      ],
    }
  },
}
