/**
 * Outgrowing the embedded default: `mediagate migrate-data` copies SQLite + disk into PostgreSQL
 * + S3, verifying every blob, and a second run (as after an interruption) copies nothing twice.
 * A gateway started on the destination then serves the same bytes.
 */
import { createHash, randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { whatsappMessage, messengerMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { startChildGateway } from '../helpers/child-gateway.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { runCli } from '../helpers/run-cli.js'
import { listKeys, S3_TEST_CREDENTIALS, useTestBucket } from '../helpers/s3.js'
import { postgresAvailable, S3_ENDPOINT, s3Available } from '../helpers/services.js'

const available = (await postgresAvailable()) && (await s3Available())

describe.skipIf(!available)('migrate-data from SQLite + disk to PostgreSQL + S3', () => {
  const bucket = useTestBucket('migrate')
  let schema: TestSchema
  let h: Harness
  const originals = new Map<string, string>()

  beforeAll(async () => {
    schema = await createTestSchema('mg_migrate')
    // A forwarding target that refuses connections keeps every forward owed, so the outbox has rows to move.
    h = await startHarness({ env: { MEDIAGATE_FORWARD_URL: 'http://127.0.0.1:9/hook' } })
    for (let i = 0; i < 30; i++) {
      const bytes = randomBytes(1000 + i * 100)
      const payload =
        i % 2 === 0
          ? (() => {
              const m = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
              return whatsappMessage({ wamid: `wamid.mig${i}`, media: { type: 'image', id: m.id, mime_type: 'image/jpeg', sha256: m.sha256 } })
            })()
          : messengerMessage({ mid: `m_mig_${i}`, attachments: [{ type: 'image', url: h.emulator.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'image/jpeg' }).url! }] })
      await h.postWebhook(payload)
      originals.set(i % 2 === 0 ? `wamid.mig${i}` : `m_mig_${i}`, createHash('sha256').update(bytes).digest('hex'))
    }
    // One failed record must travel too, with its reason.
    const gone = h.emulator.addCdnMedia({ platform: 'instagram', bytes: randomBytes(10), mimeType: 'image/jpeg' })
    h.emulator.setFaults(gone.id, { expired: true })
    await h.postWebhook(messengerMessage({ mid: 'm_mig_gone', attachments: [{ type: 'image', url: gone.url! }] }))
    const all = ((await (await h.api('/v1/media?limit=1000')).json()) as { data: MediaJson[] }).data
    await h.settled(all.map((m) => m.id))
    await h.gateway.close()
  })
  afterAll(async () => {
    await h?.emulator.close()
    if (h) await rm(h.dataDir, { recursive: true, force: true })
    await schema?.drop()
  })

  it('copies everything, verifies every blob, and is safe to run again', { timeout: 120_000 }, async () => {
    const env = {
      MEDIAGATE_DATA_DIR: h.dataDir,
      META_APP_SECRET: 'x',
      MEDIAGATE_API_KEY: API_KEY,
      MEDIAGATE_S3_ENDPOINT: S3_ENDPOINT,
      AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    }
    const args = ['migrate-data', '--to-database', schema.url, '--to-storage', `s3://${bucket.name}/m`]
    const first = await runCli(args, env, 90_000)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/copied 31 webhooks, 31 forwards and 31 media records \(0 already there\); 30 blobs copied and verified, 0 already present/)
    expect(first.stderr).toContain('migrate-data')
    const again = await runCli(args, env, 90_000)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/copied 0 webhooks, 0 forwards and 0 media records \(31 already there\); 0 blobs copied and verified, 30 already present/)
    expect((await listKeys(bucket.client, bucket.name, 'm/sha256/')).length).toBe(30)

    const gw = await startChildGateway({
      ...env,
      MEDIAGATE_DATABASE_URL: schema.url,
      MEDIAGATE_STORAGE_URL: `s3://${bucket.name}/m`,
      MEDIAGATE_ROLE: 'api',
      META_APP_SECRET: 'x',
    })
    try {
      const res = await fetch(`${gw.url}/v1/media?limit=1000`, { headers: { authorization: `Bearer ${API_KEY}` } })
      const records = ((await res.json()) as { data: MediaJson[] }).data
      expect(records).toHaveLength(31)
      expect(records.find((m) => m.message_id === 'm_mig_gone')).toMatchObject({ status: 'failed', error: { code: 'source_expired' } })
      for (const [messageId, sha256] of originals) {
        const record = records.find((m) => m.message_id === messageId)!
        expect(record.status).toBe('stored')
        const content = await fetch(`${gw.url}/v1/media/${record.id}/content`, { headers: { authorization: `Bearer ${API_KEY}` } })
        expect(createHash('sha256').update(Buffer.from(await content.arrayBuffer())).digest('hex')).toBe(sha256)
      }
    } finally {
      await gw.kill('SIGTERM')
    }

    // MEDIAGATE_S3_REDIRECT: the same content through a short-lived presigned URL on the store.
    const redirecting = await startChildGateway({
      ...env,
      MEDIAGATE_DATABASE_URL: schema.url,
      MEDIAGATE_STORAGE_URL: `s3://${bucket.name}/m`,
      MEDIAGATE_ROLE: 'api',
      MEDIAGATE_S3_REDIRECT: '1',
    })
    try {
      const [messageId, sha256] = [...originals][0]!
      const list = await fetch(`${redirecting.url}/v1/media?message_id=${messageId}`, { headers: { authorization: `Bearer ${API_KEY}` } })
      const [record] = ((await list.json()) as { data: MediaJson[] }).data
      const res = await fetch(`${redirecting.url}/v1/media/${record!.id}/content`, { headers: { authorization: `Bearer ${API_KEY}` }, redirect: 'manual' })
      expect(res.status).toBe(302)
      const location = new URL(res.headers.get('location')!)
      expect(location.origin).toBe(new URL(S3_ENDPOINT).origin)
      expect(location.searchParams.get('X-Amz-Expires')).toBe('300')
      const bytes = Buffer.from(await (await fetch(location)).arrayBuffer())
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256)
    } finally {
      await redirecting.kill('SIGTERM')
    }
  })
})
