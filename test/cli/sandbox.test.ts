/**
 * `mediagate serve` with no Meta configuration: sandbox mode starts the emulator, says so,
 * prints how to send a sample and where to fetch it, and the printed commands work. And only
 * then: a scale-out worker without META_APP_SECRET runs for real on the shared backends, and a
 * worker without a token stops at start (issue 12, defect 3).
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type ChildGateway, startChildGateway } from '../helpers/child-gateway.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { runCli } from '../helpers/run-cli.js'
import { S3_TEST_CREDENTIALS, useTestBucket } from '../helpers/s3.js'
import { postgresAvailable, S3_ENDPOINT, s3Available } from '../helpers/services.js'
import { until } from '../helpers/until.js'

let dataDir: string
let gw: ChildGateway
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-sandbox-'))
  gw = await startChildGateway({ MEDIAGATE_DATA_DIR: dataDir })
})
afterAll(async () => {
  await gw?.kill('SIGTERM')
  await rm(dataDir, { recursive: true, force: true })
})

describe('sandbox mode', () => {
  it('says loudly that it runs against the emulator, on loopback', async () => {
    const banner = await until('the banner', () => (gw.output().includes('SANDBOX MODE') && gw.output().includes('API key:') ? gw.output() : undefined), { timeoutMs: 10_000 })
    expect(banner).toContain('built-in Meta')
    expect(new URL(gw.url).hostname).toBe('127.0.0.1')
  })

  it('captures the sample WhatsApp and Messenger messages it tells you to send', async () => {
    const out = gw.output()
    const emulatorUrl = /emulator:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!
    const apiKey = /API key:\s+(\S+)/.exec(out)![1]!
    expect(out).toContain(`${emulatorUrl}/_emulator/send`)
    for (const [platform, kind] of [
      ['whatsapp', 'image'],
      ['messenger', 'video'],
    ]) {
      const sent = await fetch(`${emulatorUrl}/_emulator/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ platform, kind, target: `${gw.url}/webhooks/meta` }),
      })
      const result = (await sent.json()) as { message_id: string; status: number }
      expect(result.status).toBe(200)
      const record = await until(`the ${platform} ${kind} to leave pending`, async () => {
        const res = await fetch(`${gw.url}/v1/media?message_id=${encodeURIComponent(result.message_id)}`, { headers: { authorization: `Bearer ${apiKey}` } })
        const [m] = ((await res.json()) as { data: MediaJson[] }).data
        return m && m.status !== 'pending' ? m : undefined
      }, { timeoutMs: 10_000 })
      expect(record).toMatchObject({ platform, kind, status: 'stored' })
      const content = await fetch(`${gw.url}/v1/media/${record.id}/content`, { headers: { authorization: `Bearer ${apiKey}` } })
      expect(content.status).toBe(200)
      expect(Number(content.headers.get('content-length'))).toBe(record.size)
    }
  })
})

describe('a worker is never put in sandbox mode', () => {
  it('without WHATSAPP_ACCESS_TOKEN it stops at start, naming what to set', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-worker-'))
    try {
      // Before the fix this worker started a sandbox and ran on (the run timed out).
      const run = await runCli(['serve', '--role', 'worker'], { MEDIAGATE_DATA_DIR: dir }, 40_000)
      expect(run.code).not.toBe(0)
      expect(run.stderr).toMatch(/WHATSAPP_ACCESS_TOKEN: required by a worker/)
      expect(run.stderr).toContain('mediagate.config.json')
      expect(`${run.stdout}${run.stderr}`).not.toContain('SANDBOX MODE')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('MEDIAGATE_SANDBOX=1 on PostgreSQL is refused at start, the password never shown', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-forced-'))
    try {
      const run = await runCli(['serve'], { MEDIAGATE_DATA_DIR: dir, MEDIAGATE_SANDBOX: '1', MEDIAGATE_DATABASE_URL: 'postgres://mg:hunter2@127.0.0.1:1/mediagate' }, 40_000)
      expect(run.code).not.toBe(0)
      expect(run.stderr).toMatch(/MEDIAGATE_SANDBOX: .*MEDIAGATE_DATABASE_URL \(PostgreSQL\)/)
      expect(`${run.stdout}${run.stderr}`).not.toContain('hunter2')
      expect(`${run.stdout}${run.stderr}`).not.toContain('SANDBOX MODE')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

const servicesUp = (await postgresAvailable()) && (await s3Available())

describe.skipIf(!servicesUp)('the scale-out setup: api + a worker without META_APP_SECRET, on PostgreSQL + S3', () => {
  const API_KEY = 'scale-out-api-key-0123456789abcd'
  const bucket = useTestBucket('worker-nosandbox')
  let schema: TestSchema
  let emulator: Emulator
  let dataDir: string
  const children: ChildGateway[] = []

  beforeAll(async () => {
    schema = await createTestSchema('mg_worker')
    emulator = await startEmulator({ accessToken: 'worker-real-token-0123456789', appSecret: 'worker-app-secret' })
    dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-worker-scale-'))
  })
  afterAll(async () => {
    await Promise.allSettled(children.map((c) => c.kill('SIGTERM')))
    await emulator?.close()
    await schema?.drop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('the worker captures WhatsApp media from the configured Graph with the configured token', { timeout: 120_000 }, async () => {
    const shared = {
      MEDIAGATE_DATA_DIR: dataDir,
      MEDIAGATE_DATABASE_URL: schema.url,
      MEDIAGATE_STORAGE_URL: `s3://${bucket.name}/media`,
      MEDIAGATE_S3_ENDPOINT: S3_ENDPOINT,
      AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      META_GRAPH_URL: emulator.url,
      MEDIAGATE_ALLOWED_HOSTS: '127.0.0.1',
    }
    const api = await startChildGateway({ ...shared, MEDIAGATE_ROLE: 'api', META_APP_SECRET: emulator.appSecret, META_VERIFY_TOKEN: 'verify', MEDIAGATE_API_KEY: API_KEY })
    children.push(api)
    // What the README tells a worker to have: the token, and no app secret or API key.
    const worker = await startChildGateway({ ...shared, MEDIAGATE_ROLE: 'worker', WHATSAPP_ACCESS_TOKEN: emulator.accessToken })
    children.push(worker)

    const bytes = randomBytes(5_000)
    const media = emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    expect((await emulator.sendWebhook(payload, { target: `${api.url}/webhooks/meta` })).status).toBe(200)

    const record = await until('the media to leave pending', async () => {
      const res = await fetch(`${api.url}/v1/media?message_id=${encodeURIComponent(wamid)}`, { headers: { authorization: `Bearer ${API_KEY}` } })
      const [m] = ((await res.json()) as { data: MediaJson[] }).data
      return m && m.status !== 'pending' ? m : undefined
    }, { timeoutMs: 60_000 })
    expect(record, JSON.stringify(record.error)).toMatchObject({ status: 'stored', sha256: createHash('sha256').update(bytes).digest('hex') })
    // The configured token reached the configured Graph; no sandbox of its own stood in.
    expect(Object.keys(emulator.stats().byMedia[media.id]?.tokens ?? {})).toEqual(['default'])
    expect(worker.output()).not.toContain('SANDBOX MODE')
  })
})
