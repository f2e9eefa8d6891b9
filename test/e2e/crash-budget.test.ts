/**
 * A media whose capture takes its process down on every attempt must not be taken again forever:
 * the real binary is killed with SIGKILL mid-capture, restarted on the same data, and once the
 * media's attempts in a row reach MEDIAGATE_CRASH_LIMIT the next claim fails it with code
 * `crashed`, instead of handing it out again after every lease expiry.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { signPayload } from '../../src/platforms/signature.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { startChildGateway } from '../helpers/child-gateway.js'
import { until } from '../helpers/until.js'

const API_KEY = 'crash-budget-api-key-0123456789'
const CRASH_LIMIT = 2

let emulator: Emulator
let dataDir: string
beforeAll(async () => {
  emulator = await startEmulator({ accessToken: 'crash-budget-token', appSecret: 'crash-budget-secret' })
  dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-crash-budget-'))
})
afterAll(async () => {
  await emulator?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

const env = () => ({
  MEDIAGATE_DATA_DIR: dataDir,
  META_APP_SECRET: emulator.appSecret,
  META_VERIFY_TOKEN: 'crash-budget-verify',
  WHATSAPP_ACCESS_TOKEN: emulator.accessToken,
  META_GRAPH_URL: emulator.url,
  MEDIAGATE_API_KEY: API_KEY,
  MEDIAGATE_ALLOWED_HOSTS: '127.0.0.1',
  MEDIAGATE_LEASE_SECONDS: '5',
  MEDIAGATE_CRASH_LIMIT: String(CRASH_LIMIT),
  MEDIAGATE_DOWNLOAD_TIMEOUT_MS: '600000',
})

it('fails a media with `crashed` once MEDIAGATE_CRASH_LIMIT attempts in a row died with their process', { timeout: 90_000 }, async () => {
  const media = emulator.addWhatsAppMedia({ bytes: Buffer.from('never arrives'), mimeType: 'image/jpeg' })
  // The lookup hangs: the process is mid-capture whenever it is killed.
  emulator.setFaults(media.id, { delayMs: 600_000 })
  const payload = Buffer.from(JSON.stringify(whatsappMessage({ wamid: 'wamid.crashes-every-time', media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })))
  const lookups = () => emulator.stats().byMedia[media.id]?.lookups ?? 0

  for (let attempt = 1; attempt <= CRASH_LIMIT; attempt++) {
    const gw = await startChildGateway(env())
    try {
      if (attempt === 1) {
        const res = await fetch(`${gw.url}/webhooks/meta`, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(payload, emulator.appSecret) } })
        expect(res.status).toBe(200)
      }
      // Claimed again once the dead process's lease expired (5 s), and stuck in the lookup.
      await until(`lookup ${attempt}`, () => lookups() >= attempt)
    } finally {
      await gw.kill('SIGKILL')
    }
  }

  const gw = await startChildGateway(env())
  try {
    const record = await until('the media to leave pending', async () => {
      const res = await fetch(`${gw.url}/v1/media?message_id=wamid.crashes-every-time`, { headers: { authorization: `Bearer ${API_KEY}` } })
      const [m] = ((await res.json()) as { data: MediaJson[] }).data
      return m && m.status !== 'pending' ? m : undefined
    })
    expect(record).toMatchObject({ status: 'failed', attempts: CRASH_LIMIT })
    expect(record.error?.code).toBe('crashed')
    expect(record.error?.message).toMatch(/in a row that never finished/)
    // Not handed out a third time.
    expect(lookups()).toBe(CRASH_LIMIT)
  } finally {
    await gw.kill('SIGTERM')
  }
})
