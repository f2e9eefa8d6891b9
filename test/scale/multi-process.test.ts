/**
 * Scale-out: three gateway processes share one PostgreSQL catalog and one S3 bucket (a real
 * Swift with SigV4) and ingest well over a thousand media from the emulator. The emulator's
 * per-media download counters prove each media was fetched exactly once; then one process is
 * killed mid-run and the others finish its leased jobs, every byte exact.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { signPayload } from '../../src/platforms/signature.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type ChildGateway, listAllMedia, startChildGateway } from '../helpers/child-gateway.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { S3_TEST_CREDENTIALS, useTestBucket } from '../helpers/s3.js'
import { postgresAvailable, S3_ENDPOINT, s3Available } from '../helpers/services.js'

const available = (await postgresAvailable()) && (await s3Available())
const FIRST = 1200
const SECOND = 400
const CONCURRENCY = 6
const API_KEY = 'multi-process-api-key-0123456789'

describe.skipIf(!available)('three processes on PostgreSQL + S3', () => {
  const bucket = useTestBucket('multiproc')
  let schema: TestSchema
  let emulator: Emulator
  const gateways: ChildGateway[] = []

  beforeAll(async () => {
    schema = await createTestSchema('mg_multi')
    emulator = await startEmulator({ accessToken: 'multi-token', appSecret: 'multi-secret', latencyMs: 5 })
  })
  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.kill('SIGKILL')))
    await emulator?.close()
    await schema?.drop()
  })

  const env = () => ({
    MEDIAGATE_DATABASE_URL: schema.url,
    MEDIAGATE_STORAGE_URL: `s3://${bucket.name}/media`,
    MEDIAGATE_S3_ENDPOINT: S3_ENDPOINT,
    AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    META_APP_SECRET: emulator.appSecret,
    META_VERIFY_TOKEN: 'verify',
    WHATSAPP_ACCESS_TOKEN: emulator.accessToken,
    META_GRAPH_URL: emulator.url,
    MEDIAGATE_API_KEY: API_KEY,
    MEDIAGATE_ALLOWED_HOSTS: '127.0.0.1',
    MEDIAGATE_CONCURRENCY: String(CONCURRENCY),
    MEDIAGATE_LEASE_SECONDS: '5',
    // Each process writes to the same data dir only its (unused) defaults; keep them apart anyway.
    MEDIAGATE_DATA_DIR: `/tmp/mediagate-multi-${process.pid}`,
  })

  interface Sent {
    messageId: string
    mediaId: string
    sha256: string
    body: Buffer
  }

  function build(count: number, offset: number): Sent[] {
    return Array.from({ length: count }, (_, n) => {
      const i = n + offset
      const bytes = randomBytes(2_000 + (i % 7) * 1_000)
      const sha256 = createHash('sha256').update(bytes).digest('hex')
      if (i % 2 === 0) {
        const media = emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
        const messageId = `wamid.multi${i}`
        const payload = whatsappMessage({ wamid: messageId, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
        return { messageId, mediaId: media.id, sha256, body: Buffer.from(JSON.stringify(payload)) }
      }
      const media = emulator.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'image/jpeg' })
      const messageId = `m_multi_${i}`
      const payload = messengerMessage({ mid: messageId, attachments: [{ type: 'image', url: media.url! }] })
      return { messageId, mediaId: media.id, sha256, body: Buffer.from(JSON.stringify(payload)) }
    })
  }

  /** Posts every webhook, round robin over the live gateways; a refused post goes elsewhere. */
  async function deliver(items: Sent[], live: () => ChildGateway[]): Promise<void> {
    const queue = [...items]
    let turn = 0
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (let guard = 0; queue.length > 0 && guard < items.length * 3; guard++) {
          const item = queue.shift()!
          const targets = live()
          const gw = targets[turn++ % targets.length]!
          const ok = await fetch(`${gw.url}/webhooks/meta`, {
            method: 'POST',
            body: item.body,
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(item.body, emulator.appSecret) },
          })
            .then(async (r) => (await r.arrayBuffer(), r.status === 200))
            .catch(() => false)
          if (!ok) queue.push(item)
        }
      }),
    )
    expect(queue).toEqual([])
  }

  async function waitSettled(gw: ChildGateway, expected: number): Promise<Map<string, MediaJson>> {
    const deadline = Date.now() + 150_000
    for (;;) {
      const all = await listAllMedia(gw.url, API_KEY)
      if ((all.length >= expected && !all.some((m) => m.status === 'pending')) || Date.now() > deadline) {
        return new Map(all.map((m) => [m.message_id, m]))
      }
      await new Promise((r) => setTimeout(r, 500))
    }
  }

  it('captures every media exactly once, and survives losing a process', { timeout: 300_000 }, async () => {
    for (let i = 0; i < 3; i++) gateways.push(await startChildGateway(env()))

    const first = build(FIRST, 0)
    await deliver(first, () => gateways)
    let records = await waitSettled(gateways[0]!, FIRST)
    const stats = emulator.stats()
    for (const item of first) {
      const record = records.get(item.messageId)!
      expect(record.status, `${item.messageId}: ${JSON.stringify(record.error)}`).toBe('stored')
      expect(record.sha256).toBe(item.sha256)
      expect(stats.byMedia[item.mediaId]!.downloadsStarted, item.messageId).toBe(1)
    }

    // Round two: one process dies (SIGKILL) while it holds leases; the others take over.
    const second = build(SECOND, FIRST)
    const victim = gateways[2]!
    let alive = [...gateways]
    const delivering = deliver(second, () => alive)
    await new Promise((r) => setTimeout(r, 400))
    alive = gateways.slice(0, 2)
    await victim.kill('SIGKILL')
    await delivering
    records = await waitSettled(gateways[0]!, FIRST + SECOND)
    const after = emulator.stats()
    let refetched = 0
    for (const item of second) {
      const record = records.get(item.messageId)!
      expect(record.status, `${item.messageId}: ${JSON.stringify(record.error)}`).toBe('stored')
      expect(record.sha256).toBe(item.sha256)
      const started = after.byMedia[item.mediaId]!.downloadsStarted
      expect(started).toBeGreaterThanOrEqual(1)
      if (started > 1) refetched++
    }
    // Only what the killed process held may have been fetched again: its runs in flight (at most
    // CONCURRENCY) and the runs that had ended and whose settlements it had not committed yet (a
    // slot is free for a new claim once its run ends, before the settlement commits: at most as many).
    expect(refetched).toBeLessThanOrEqual(2 * CONCURRENCY)
    expect(records.size).toBe(FIRST + SECOND)
  })
})
