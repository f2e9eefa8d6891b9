/**
 * Outages of the servers mediagate depends on, each in the middle of a capture run, each ending
 * with every acknowledged media `stored` with its exact bytes and nothing `failed`:
 * - the S3-compatible store unreachable for two minutes (a real Swift, behind a forwarder that
 *   the test cuts, so the server other test files share keeps running);
 * - PostgreSQL restarting (every connection reset, new ones refused for a few seconds);
 * - the blob store's disk full (a small tmpfs made by the test) until space is freed.
 * Webhooks refused during an outage (503) are posted again, as Meta redelivers them.
 */
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'
import { createTestSchema } from '../helpers/postgres.js'
import { S3_TEST_CREDENTIALS, S3_TEST_REGION, useTestBucket } from '../helpers/s3.js'
import { IN_CI, POSTGRES_URL, postgresAvailable, S3_ENDPOINT, s3Available } from '../helpers/services.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const wamidOf = (p: ReturnType<typeof whatsappMessage>) => (p.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
// Retries during an outage come every second or two, not every 100 ms: the run stays light.
const OUTAGE_RETRY = { baseDelayMs: 200, maxDelayMs: 2000 }

const [pgUp, s3Up] = await Promise.all([postgresAvailable(), s3Available()])

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

/** Posts until the gateway acknowledges (Meta redelivers what it did not get a 200 for). */
async function deliver(h: Harness, payload: object): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const status = await h.postWebhook(payload).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 200) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('the webhook was never acknowledged')
}

/** Sends `count` WhatsApp images; returns each one's message id and expected sha256. */
async function send(h: Harness, count: number, size = 40_000): Promise<Map<string, string>> {
  const expected = new Map<string, string>()
  for (let i = 0; i < count; i++) {
    const bytes = randomBytes(size)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    await deliver(h, payload)
    expected.set(wamidOf(payload), sha(bytes))
  }
  return expected
}

async function allMedia(h: Harness): Promise<MediaJson[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await h.api('/v1/media?limit=1000')
      if (res.ok) return ((await res.json()) as { data: MediaJson[] }).data
    } catch (err) {
      if (attempt > 100) throw err
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Waits until nothing is pending, then checks every acknowledged media is stored with its exact bytes. */
async function expectAllStored(h: Harness, expected: Map<string, string>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let media: MediaJson[] = []
  for (;;) {
    media = await allMedia(h)
    if ((media.length >= expected.size && media.every((m) => m.status !== 'pending')) || Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, 250))
  }
  expect(media.filter((m) => m.status !== 'stored').map((m) => `${m.id} ${m.status} ${m.error?.code}: ${m.error?.message}`)).toEqual([])
  expect(media).toHaveLength(expected.size)
  for (const m of media) {
    expect(m.sha256).toBe(expected.get(m.message_id))
    const res = await h.api(`/v1/media/${m.id}/content`)
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(expected.get(m.message_id))
  }
}

describe.skipIf(!s3Up)('S3 unreachable for two minutes mid-run', () => {
  const bucket = useTestBucket('outage')

  it('stores every acknowledged media once the store is back, and fails none', { timeout: 300_000 }, async () => {
    const s3 = new URL(S3_ENDPOINT)
    const proxy = await startTcpProxy({ host: s3.hostname, port: Number(s3.port) })
    cleanups.push(() => proxy.close())
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey, AWS_REGION: S3_TEST_REGION })
    const h = await startHarness({
      env: { MEDIAGATE_STORAGE_URL: `s3://${bucket.name}/outage`, MEDIAGATE_S3_ENDPOINT: `http://${proxy.host}:${proxy.port}`, MEDIAGATE_S3_FORCE_PATH_STYLE: '1' },
      emulator: { latencyMs: 30 },
      retry: OUTAGE_RETRY,
    })
    cleanups.push(() => h.close())
    const expected = await send(h, 10)
    await proxy.down()
    const during = await send(h, 10)
    await new Promise((r) => setTimeout(r, 120_000))
    // Nothing gave up while the store was away.
    expect((await allMedia(h)).filter((m) => m.status === 'failed')).toEqual([])
    await proxy.up()
    await expectAllStored(h, new Map([...expected, ...during]), 60_000)
  })
})

describe.skipIf(!pgUp)('PostgreSQL restarting mid-run', () => {
  it('acknowledges only what it recorded, and stores all of it', { timeout: 120_000 }, async () => {
    const pg = new URL(POSTGRES_URL)
    const proxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) })
    cleanups.push(() => proxy.close())
    const schema = await createTestSchema('mg_outage')
    cleanups.push(() => schema.drop())
    const url = new URL(schema.url)
    url.host = `${proxy.host}:${proxy.port}`
    const h = await startHarness({ env: { MEDIAGATE_DATABASE_URL: url.toString() }, emulator: { latencyMs: 30 }, retry: OUTAGE_RETRY })
    cleanups.push(() => h.close())
    const expected = await send(h, 15)
    await proxy.down()
    const sending = send(h, 15) // refused with 503 while the database is away, redelivered after
    await new Promise((r) => setTimeout(r, 5000))
    await proxy.up()
    for (const [k, v] of await sending) expected.set(k, v)
    await expectAllStored(h, expected, 60_000)
  })
})

/** A tmpfs of `size` at a fresh directory, or undefined (with the reason) where mounting is not allowed. */
function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
    return undefined
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message
  }
}

describe('the blob store’s disk full mid-run', () => {
  it('keeps every media pending while the disk is full and stores them all once space is freed', { timeout: 120_000 }, async (test) => {
    const base = await mkdtemp(path.join(tmpdir(), 'mediagate-diskfull-'))
    cleanups.push(() => rm(base, { recursive: true, force: true }))
    const disk = path.join(base, 'disk')
    await writeFile(path.join(base, '.keep'), '')
    execFileSync('mkdir', ['-p', disk])
    const refused = mountTmpfs(disk, '4m')
    if (refused) {
      if (IN_CI) throw new Error(`cannot mount a tmpfs for the disk-full test (CI runs as root): ${refused}`)
      console.warn(`SKIPPED: the disk-full test needs to mount a tmpfs (run as root): ${refused}`)
      test.skip()
      return
    }
    cleanups.push(async () => execFileSync('umount', [disk]))
    const h = await startHarness({ env: { MEDIAGATE_STORAGE_URL: `file:${path.join(disk, 'blobs')}` }, retry: OUTAGE_RETRY })
    cleanups.push(() => h.close())
    // Fill the disk, leaving less than one media's worth.
    const filler = path.join(disk, 'filler')
    const free = () => Number(execFileSync('df', ['--output=avail', '-B1', disk]).toString().split('\n')[1])
    await writeFile(filler, Buffer.alloc(Math.max(0, free() - 64 * 1024)))
    const expected = await send(h, 8, 300_000)
    await new Promise((r) => setTimeout(r, 5000))
    const meanwhile = await allMedia(h)
    expect(meanwhile.filter((m) => m.status === 'stored')).toEqual([])
    expect(meanwhile.filter((m) => m.status === 'failed')).toEqual([])
    expect(meanwhile.some((m) => m.error?.code === 'storage')).toBe(true)
    await rm(filler)
    await expectAllStored(h, expected, 60_000)
  })
})
