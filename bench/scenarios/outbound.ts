/**
 * Outbound media: handle requests per second when the handle is cached (no call to Meta) and
 * when each request uploads (a fresh media each), against a bare upload client posting the same
 * bytes straight to the emulated Graph (what an app that uploads on every send does), in the
 * same run; and the time to make a 1-minute voice note (mono OGG/Opus) with ffmpeg.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { startEmulator } from '../../src/emulator/index.js'
import { locateFfmpeg } from '../../src/derivatives/ffmpeg.js'
import { Fetcher } from '../../src/fetch/index.js'
import { toVoiceNote } from '../../src/outbound/convert.js'
import { GraphMediaClient } from '../../src/platforms/graph/index.js'
import type { BenchContext } from '../lib/context.js'
import { ACCESS_TOKEN, API_KEY, APP_SECRET, startGateway } from '../lib/gateway-child.js'
import { row } from '../lib/report.js'
import type { Scenario } from '../lib/scenario.js'

const SIZE = 100 * 1024
const NUMBER = '123456789'
const CONCURRENCY = 8
const LATENCY_MS = 100

/**
 * SIZE bytes that are a PDF to a sniffer: random bytes alone are now and then taken for another
 * type by their first bytes (1f 9d is `compress`), which WhatsApp does not take, and the handle
 * request is refused.
 */
function pdfLike(): Buffer {
  const head = Buffer.from('%PDF-1.7\n')
  return Buffer.concat([head, randomBytes(SIZE - head.length)])
}

async function timed(count: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await one(next++)
    }),
  )
  return count / ((performance.now() - start) / 1000)
}

export const outbound: Scenario = {
  name: 'outbound',
  title: 'Outbound media: handle requests cached and uploading, and voice-note conversion',
  async run(ctx: BenchContext) {
    const count = ctx.quick ? 100 : 1_000
    // 100 ms per Graph call: a fast real upload (Meta's take longer), so the cache's saving shows.
    const emulator = await startEmulator({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, latencyMs: LATENCY_MS })
    const gateway = await startGateway(ctx, { label: 'outbound', emulatorUrl: emulator.url, env: { MEDIAGATE_DERIVE: '0' } })
    const fetcher = new Fetcher({ allowedHosts: ['127.0.0.1'], userAgent: 'mediagate-bench/1' })
    const auth = { authorization: `Bearer ${API_KEY}` }
    const post = async (bytes: Buffer): Promise<string> => {
      const res = await fetch(`${gateway.url}/v1/media`, { method: 'POST', body: bytes, headers: { ...auth, 'content-type': 'application/pdf' } })
      if (res.status !== 201) throw new Error(`POST /v1/media answered ${res.status}`)
      return ((await res.json()) as { id: string }).id
    }
    const handle = async (id: string): Promise<void> => {
      const res = await fetch(`${gateway.url}/v1/media/${id}/handles`, { method: 'POST', body: JSON.stringify({ platform: 'whatsapp', account_id: NUMBER }), headers: { ...auth, 'content-type': 'application/json' } })
      if (res.status !== 200) throw new Error(`handles answered ${res.status}: ${await res.text()}`)
      await res.arrayBuffer()
    }
    try {
      const cachedId = await post(pdfLike())
      await handle(cachedId)
      const cached = await timed(count, () => handle(cachedId))
      const ids: string[] = []
      for (let i = 0; i < count; i++) ids.push(await post(pdfLike()))
      const uploadsBefore = emulator.stats().uploads
      const uploading = await timed(count, (i) => handle(ids[i]!))
      const uploads = emulator.stats().uploads - uploadsBefore
      const client = new GraphMediaClient({ graphUrl: emulator.url, version: 'v26.0', accessToken: ACCESS_TOKEN, fetcher })
      const bytes = pdfLike()
      const bare = await timed(count, async () => {
        await client.uploadWhatsApp(NUMBER, { filename: 'f.pdf', mimeType: 'application/pdf', size: bytes.length, open: () => Readable.from([bytes]) })
      })
      const rows = [
        row({ scenario: 'outbound', metric: `handle requests/s, cached (${count}, ${CONCURRENCY} at a time)`, unit: 'req/s', value: cached, baseline: { name: 'bare upload client, an upload per send', value: bare } }),
        row({ scenario: 'outbound', metric: `handle requests/s, each uploading 100 KiB (${count})`, unit: 'req/s', value: uploading, baseline: { name: 'bare upload client, an upload per send', value: bare }, note: `${uploads} uploads seen by the emulator` }),
      ]
      const tools = locateFfmpeg(undefined)
      if (tools) {
        const dir = path.join(ctx.workDir, 'outbound')
        await mkdir(dir, { recursive: true })
        const wav = path.join(dir, 'minute.wav')
        execFileSync(tools.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:duration=60', '-ac', '2', '-ar', '44100', '-y', wav])
        const ffmpeg = { ...tools, timeoutMs: 60_000, threads: 1, nice: 0 }
        const start = performance.now()
        await toVoiceNote(ffmpeg, wav, path.join(dir, 'voice.ogg'))
        const voiceMs = performance.now() - start
        const decodeStart = performance.now()
        execFileSync(tools.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', wav, '-f', 'null', '-'])
        const decodeMs = performance.now() - decodeStart
        const size = (await readFile(path.join(dir, 'voice.ogg'))).length
        rows.push(row({ scenario: 'outbound', metric: '1-minute voice note to mono OGG/Opus (ffmpeg, 1 thread)', unit: 'ms', value: voiceMs, lowerIsBetter: true, baseline: { name: 'decoding the same WAV only', value: decodeMs }, note: `${size} bytes out` }))
      }
      return { scenario: 'outbound', rows, details: { count, size: SIZE, concurrency: CONCURRENCY }, notes: [`Gateway: role all, SQLite + disk; the emulator on loopback with ${LATENCY_MS} ms per Graph call (a real upload takes longer: what the cache saves grows with it).`] }
    } finally {
      await fetcher.close()
      await gateway.discard()
      await emulator.close()
    }
  },
}
