/**
 * Outgrowing the embedded default: `mediagate migrate-data` copies SQLite + disk into PostgreSQL
 * + S3, verifying every blob, and a second run (as after an interruption) copies nothing twice.
 * A gateway started on the destination then serves the same bytes. Run again after the source
 * changed, it brings the destination up to date (erasures and their blobs included), and it
 * refuses a source a gateway is still writing to unless told `--live`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Catalog } from '../../src/catalog/catalog.js'
import { checkSource, copyUntilStill, migrateData } from '../../src/cli/commands/migrate-data.js'
import { quarantineInfected } from '../../src/scanning/quarantine.js'
import { releaseInfected } from '../../src/scanning/rescan.js'
import { READS } from '../../src/cli/config-flags.js'
import { loadConfig } from '../../src/config/load-config.js'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { createLogger } from '../../src/logging/logger.js'
import { openParts, type Parts } from '../../src/parts.js'
import { signPayload } from '../../src/platforms/signature.js'
import { newMedia, webhook } from '../catalog/fixtures.js'
import { whatsappMessage, messengerMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type ChildGateway, startChildGateway } from '../helpers/child-gateway.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { runCli } from '../helpers/run-cli.js'
import { listKeys, S3_TEST_CREDENTIALS, useTestBucket } from '../helpers/s3.js'
import { postgresAvailable, S3_ENDPOINT, s3Available } from '../helpers/services.js'
import { until } from '../helpers/until.js'

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

/** Every row of the copied tables, without the leases a copy drops, for comparing two catalogs. */
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The content-addressed blobs a store lists (quarantined ones are never listed). */
async function listDest(parts: Parts): Promise<string[]> {
  const keys: string[] = []
  for await (const blob of parts.blobs.list()) keys.push(blob.key)
  return keys
}

async function dump(catalog: Catalog): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {}
  for (const table of ['webhooks', 'forwards', 'media'] as const) {
    out[table] = (await catalog.exportRows(table, null, 10_000)).map((row) => {
      const { lease_owner: _owner, lease_expires_at: _expires, ...rest } = row
      // Numbers as numbers and booleans as booleans, whichever engine they come from.
      return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) && k !== 'id' ? Number(v) : k === 'voice' || k === 'animated' || k === 'wait_for_media' ? (v === null ? null : Boolean(v)) : Buffer.isBuffer(v) || v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v]))
    })
  }
  return out
}

describe.skipIf(!available)('migrate-data again: the destination catches up with the source', () => {
  const bucket = useTestBucket('migrate-again')
  let schema: TestSchema
  let emulator: Emulator
  let dataDir: string
  const gateways: ChildGateway[] = []

  beforeAll(async () => {
    schema = await createTestSchema('mg_migrate_again')
    emulator = await startEmulator({ accessToken: 'emu-access-token-secret', appSecret: 'emu-app-secret-value' })
    dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-migrate-again-'))
  })
  afterAll(async () => {
    for (const gw of gateways) await gw.kill('SIGKILL')
    await emulator?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
    await schema?.drop()
  })

  const s3 = () => ({
    MEDIAGATE_S3_ENDPOINT: S3_ENDPOINT,
    AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
  })
  const sourceEnv = () => ({
    MEDIAGATE_DATA_DIR: dataDir,
    META_APP_SECRET: emulator.appSecret,
    META_VERIFY_TOKEN: 'verify-me-please',
    WHATSAPP_ACCESS_TOKEN: emulator.accessToken,
    META_GRAPH_URL: emulator.url,
    MEDIAGATE_API_KEY: API_KEY,
    MEDIAGATE_ALLOWED_HOSTS: new URL(emulator.url).hostname,
    // Refused connections keep the forwards owed and retrying: the outbox changes while a gateway runs.
    MEDIAGATE_FORWARD_URL: 'http://127.0.0.1:9/hook',
  })
  const destEnv = () => ({ ...sourceEnv(), ...s3(), MEDIAGATE_DATABASE_URL: schema.url, MEDIAGATE_STORAGE_URL: `s3://${bucket.name}/m`, MEDIAGATE_ROLE: 'api' })
  const migrate = (extra: string[] = []) =>
    runCli(['migrate-data', '--to-database', schema.url, '--to-storage', `s3://${bucket.name}/m`, ...extra], { MEDIAGATE_DATA_DIR: dataDir, ...s3() }, 90_000)
  const sourceGateway = async () => {
    const gw = await startChildGateway(sourceEnv())
    gateways.push(gw)
    return gw
  }
  const api = (gw: ChildGateway, pathname: string, init: RequestInit = {}) => fetch(`${gw.url}${pathname}`, { ...init, headers: { authorization: `Bearer ${API_KEY}` } })
  const post = (gw: ChildGateway, payload: object) => {
    const body = Buffer.from(JSON.stringify(payload))
    return fetch(`${gw.url}/webhooks/meta`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, emulator.appSecret) } })
  }
  const byMessage = async (gw: ChildGateway, messageId: string) => ((await (await api(gw, `/v1/media?message_id=${messageId}`)).json()) as { data: MediaJson[] }).data[0]
  const whatsapp = (wamid: string, bytes: Buffer) => {
    const m = emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    return { media: m, payload: whatsappMessage({ wamid, media: { type: 'image', id: m.id, mime_type: 'image/jpeg', sha256: m.sha256 } }) }
  }
  const messenger = (mid: string, bytes: Buffer) => {
    const m = emulator.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'image/jpeg' })
    return { media: m, payload: messengerMessage({ mid, attachments: [{ type: 'image', url: m.url! }] }) }
  }
  const openCatalogs = async () => {
    const quiet = createLogger('silent')
    const source = await openParts(loadConfig({ env: { MEDIAGATE_DATA_DIR: dataDir }, only: READS.catalog }), { catalog: 'read', logger: quiet })
    const dest = await openParts(loadConfig({ env: { MEDIAGATE_DATABASE_URL: schema.url }, only: READS.catalog }), { catalog: 'read', logger: quiet })
    return { source: source.catalog, dest: dest.catalog, close: () => Promise.all([source.close(), dest.close()]) }
  }

  it('brings over erasures (and deletes their blobs), captures, retries and the outbox; a third run changes nothing', { timeout: 240_000 }, async () => {
    const twin = randomBytes(3000)
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    const erased = randomBytes(2500)
    const items = {
      keep: whatsapp('wamid.again.keep', randomBytes(2000)),
      erase: whatsapp('wamid.again.erase', erased),
      twinA: whatsapp('wamid.again.twinA', twin),
      twinB: whatsapp('wamid.again.twinB', twin),
      // Pending at the first copy: Meta answers 503 and asks for a few seconds.
      later: whatsapp('wamid.again.later', randomBytes(1800)),
      // Failed at the first copy (the CDN URL had expired); retried by hand afterwards.
      retried: messenger('m_again_retried', randomBytes(1600)),
    }
    emulator.setFaults(items.later.media.id, { downloadStatus: 503, retryAfterSeconds: 3 })
    emulator.setFaults(items.retried.media.id, { expired: true })

    // 1. A gateway on SQLite + disk receives them; stopped with `later` still pending.
    let gw = await sourceGateway()
    for (const item of Object.values(items)) expect((await post(gw, item.payload)).status).toBe(200)
    const settledAs = { keep: 'stored', erase: 'stored', twinA: 'stored', twinB: 'stored', retried: 'failed' } as const
    const ids: Record<keyof typeof items, string> = {} as never
    for (const [name, wanted] of Object.entries(settledAs)) {
      const messageId = name === 'retried' ? 'm_again_retried' : `wamid.again.${name}`
      ids[name as keyof typeof items] = (await until(`${name} ${wanted}`, async () => ((await byMessage(gw, messageId))?.status === wanted ? byMessage(gw, messageId) : undefined), { timeoutMs: 30_000 }))!.id
    }
    ids.later = (await until('a first attempt at `later`', async () => {
      const m = await byMessage(gw, 'wamid.again.later')
      return m && m.attempts >= 1 ? m : undefined
    }, { timeoutMs: 30_000 })).id
    await gw.kill('SIGTERM')

    // 2. The first copy.
    const first = await migrate()
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/copied 6 webhooks, 6 forwards and 6 media records \(0 already there\); 3 blobs copied and verified, 1 already present/)
    const erasedKey = `m/sha256/${sha(erased).slice(0, 2)}/${sha(erased).slice(2, 4)}/${sha(erased)}`
    expect(await listKeys(bucket.client, bucket.name, 'm/sha256/')).toContain(erasedKey)

    // 3. The source runs again. While a capture holds its lease, a copy is refused...
    emulator.setFaults(items.later.media.id, {})
    emulator.setFaults(items.retried.media.id, {})
    gw = await sourceGateway()
    const slow = messenger('m_again_slow', randomBytes(1200))
    emulator.setFaults(slow.media.id, { delayMs: 12_000, times: 1 })
    expect((await post(gw, slow.payload)).status).toBe(200)
    await until('the slow capture to hold its lease', async () => (await byMessage(gw, 'm_again_slow'))?.attempts === 1, { timeoutMs: 30_000 })
    const refused = await migrate()
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/mediagate: conflict: the source catalog is in use: \d+ jobs are leased to a running process .*--live/)
    expect(refused.stderr).not.toContain(schema.url)
    // ... unless --live: it copies what is there now, and is safe to repeat.
    const live = await migrate(['--live'])
    expect(live.code, live.stderr).toBe(0)
    expect(live.stdout).toMatch(/copied 1 webhooks, 1 forwards and 1 media records/)

    // 4. What changes at the source: a capture completes, two erasures (one blob shared with a
    // record that stays), a failed media retried by hand.
    await until('`later` stored', async () => (await byMessage(gw, 'wamid.again.later'))?.status === 'stored', { timeoutMs: 30_000 })
    expect((await api(gw, `/v1/media/${ids.erase}`, { method: 'DELETE' })).status).toBe(200)
    expect((await api(gw, `/v1/media/${ids.twinA}`, { method: 'DELETE' })).status).toBe(200)
    expect((await api(gw, `/v1/media/${ids.retried}/retry`, { method: 'POST' })).status).toBe(202)
    await until('the retried media stored', async () => (await byMessage(gw, 'm_again_retried'))?.status === 'stored', { timeoutMs: 30_000 })
    await until('the slow capture stored', async () => (await byMessage(gw, 'm_again_slow'))?.status === 'stored', { timeoutMs: 30_000 })
    await gw.kill('SIGTERM')

    // 5. The re-run (a gateway stopped a moment ago is waited for, not refused).
    const again = await migrate()
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/copied 0 webhooks, 0 forwards and 0 media records \(7 already there\)/)
    // The two erasures and the retry, and the slow capture unless it was stored before the --live run.
    expect(again.stdout).toMatch(/updated \d+ forwards and [34] media records to the source's newer state, kept 0 the destination changed since; deleted 1 blobs of erased media at the destination/)
    const keys = await listKeys(bucket.client, bucket.name, 'm/sha256/')
    expect(keys).not.toContain(erasedKey)
    expect(keys).toContain(`m/sha256/${sha(twin).slice(0, 2)}/${sha(twin).slice(2, 4)}/${sha(twin)}`)
    expect(keys).toHaveLength(5)

    const { source, dest, close } = await openCatalogs()
    try {
      const there = await dump(dest)
      expect(there).toEqual(await dump(source))
      expect(await dest.get(ids.erase)).toMatchObject({ status: 'deleted', blobKey: null })
      expect(await dest.get(ids.twinA)).toMatchObject({ status: 'deleted', blobKey: null })
      expect(await dest.get(ids.twinB)).toMatchObject({ status: 'stored' })
      expect(await dest.get(ids.later)).toMatchObject({ status: 'stored', error: null })
      expect(await dest.get(ids.retried)).toMatchObject({ status: 'stored', error: null, attempts: (await source.get(ids.retried))!.attempts })
      expect((await dest.listForwards({}, { limit: 100 })).data).toEqual((await source.listForwards({}, { limit: 100 })).data)

      // 6. Once more: nothing left to do, nothing changes.
      const third = await migrate()
      expect(third.code, third.stderr).toBe(0)
      expect(third.stdout).toMatch(/copied 0 webhooks, 0 forwards and 0 media records \(7 already there\); 0 blobs copied and verified, 5 already present/)
      expect(third.stdout).toMatch(/updated 0 forwards and 0 media records to the source's newer state, kept 0 the destination changed since; deleted 0 blobs/)
      expect(await dump(dest)).toEqual(there)
    } finally {
      await close()
    }

    // The erased photo is gone at the destination, for a gateway started there.
    const served = await startChildGateway(destEnv())
    gateways.push(served)
    try {
      const gone = await api(served, `/v1/media/${ids.erase}/content`)
      expect(gone.status).toBe(410)
      expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('deleted')
      const kept = await api(served, `/v1/media/${ids.twinB}/content`)
      expect(sha(Buffer.from(await kept.arrayBuffer()))).toBe(sha(twin))
    } finally {
      await served.kill('SIGTERM')
    }
  })
})

/** The command's own functions on SQLite + disk at both ends: no services needed. */
describe('migrate-data: copy rules on parts opened by the caller', () => {
  const dirs: string[] = []
  const opened: Parts[] = []
  afterEach(async () => {
    for (const parts of opened.splice(0)) await parts.close()
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  const open = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-migrate-parts-'))
    dirs.push(dir)
    const parts = await openParts(loadConfig({ env: { MEDIAGATE_DATA_DIR: dir }, only: [...READS.catalog, ...READS.blobs] }), { catalog: 'create', blobs: 'own', logger: createLogger('silent') })
    opened.push(parts)
    await parts.prepare()
    return parts
  }
  const storedMedia = async (parts: Parts, bytes: Buffer) => {
    const [recorded] = await parts.catalog.recordWebhooks([webhook([newMedia()])])
    const id = recorded!.created[0]!.id
    const put = await parts.blobs.put(Readable.from([bytes]))
    await parts.catalog.claim({ owner: 't', limit: 10, leaseMs: 60_000, crashLimit: 8 })
    expect(await parts.catalog.settle(id, 't', { status: 'stored', sha256: put.sha256, size: put.size, blobKey: put.key, sniffedMime: null, mimeType: null })).toBe(true)
    return { id, key: put.key }
  }

  it('a re-run brings erasures over and deletes their unshared blobs from the destination store', async () => {
    const [source, dest] = [await open(), await open()]
    const shared = randomBytes(400)
    const alone = await storedMedia(source, randomBytes(600))
    const twinA = await storedMedia(source, shared)
    const twinB = await storedMedia(source, shared)
    expect(await migrateData(source, dest, { live: false, quietMs: 0 })).toMatchObject({ media: 3, blobsCopied: 2, blobsPresent: 1 })
    await source.eraser.erase([alone.id, twinA.id])
    expect(await source.blobs.stat(alone.key)).toBeUndefined()
    const again = await migrateData(source, dest, { live: false, quietMs: 0 })
    expect(again).toMatchObject({ media: 0, updated: { media: 2 }, blobsDeleted: 1, converged: true })
    expect(await dest.catalog.get(alone.id)).toMatchObject({ status: 'deleted', blobKey: null })
    expect(await dest.catalog.get(twinA.id)).toMatchObject({ status: 'deleted', blobKey: null })
    expect(await dest.blobs.stat(alone.key)).toBeUndefined()
    expect(await dest.blobs.stat(twinB.key)).toBeDefined()
    expect(await dump(dest.catalog)).toEqual(await dump(source.catalog))
    expect(await migrateData(source, dest, { live: false, quietMs: 0 })).toMatchObject({ media: 0, updated: { media: 0 }, kept: 0, blobsDeleted: 0, blobsCopied: 0 })
  })

  it('bytes a run copied before it was interrupted go with the erasure of their media', async () => {
    const [source, dest] = [await open(), await open()]
    const { id, key } = await storedMedia(source, randomBytes(700))
    // The interrupted run: the blob arrived, the record did not.
    await dest.blobs.put(await source.blobs.read(key))
    await source.eraser.erase([id])
    expect(await source.catalog.get(id)).toMatchObject({ status: 'deleted', blobKey: null })
    expect(await migrateData(source, dest, { live: false, quietMs: 0 })).toMatchObject({ media: 1, blobsDeleted: 1, blobsCopied: 0 })
    expect(await dest.blobs.stat(key)).toBeUndefined()
    expect(await dest.catalog.get(id)).toMatchObject({ status: 'deleted', blobKey: null })
  })

  it('a source older than the destination brings back neither erased media nor their bytes', async () => {
    const [source, dest] = [await open(), await open()]
    const { id, key } = await storedMedia(source, randomBytes(500))
    expect(await migrateData(source, dest, { live: false, quietMs: 0 })).toMatchObject({ media: 1, blobsCopied: 1, converged: true })
    // Erased at the destination after the switch; the old source still has it stored.
    await dest.eraser.erase([id])
    expect(await dest.blobs.stat(key)).toBeUndefined()
    const again = await migrateData(source, dest, { live: false, quietMs: 0 })
    expect(again).toMatchObject({ media: 0, kept: 1, blobsCopied: 0, blobsPresent: 0, converged: true })
    expect((await dest.catalog.get(id))!.status).toBe('deleted')
    expect(await dest.blobs.stat(key)).toBeUndefined()
  })

  it('copies the quarantined bytes of infected media under their quarantine key, so they can be released there', async () => {
    const [source, dest] = [await open(), await open()]
    const bad = randomBytes(800)
    const twinA = await storedMedia(source, bad)
    const twinB = await storedMedia(source, bad)
    const scan = { status: 'infected' as const, engine: 'ClamAV test', scannedAt: new Date(), signature: 'Test.Sig', releasedAt: null }
    const { quarantineKey, records } = await quarantineInfected(source, twinA.key, scan)
    expect(records.map((r) => r.id).sort()).toEqual([twinA.id, twinB.id].sort())
    expect(quarantineKey).toMatch(/^quarantine\/sha256\//)
    const first = await migrateData(source, dest, { live: false, quietMs: 0 })
    expect(first).toMatchObject({ media: 2, blobsCopied: 1, blobsPresent: 1, converged: true })
    expect(await dest.catalog.get(twinA.id)).toMatchObject({ status: 'failed', blobKey: quarantineKey, error: { code: 'infected' } })
    expect(await dest.blobs.stat(quarantineKey!)).toEqual({ key: quarantineKey, size: 800 })
    // Kept as evidence only: not under its content key, where it would be served.
    expect(await dest.blobs.stat(twinA.key)).toBeUndefined()
    expect(await listDest(dest)).toEqual([])
    expect(await dump(dest.catalog)).toEqual(await dump(source.catalog))
    // Released after review at the destination: the bytes come back from its quarantine.
    const released = await releaseInfected({ catalog: dest.catalog, blobs: dest.blobs, discardBlobs: (keys) => dest.eraser.discard(keys) }, twinA.id)
    expect(released).toMatchObject({ status: 'stored', blobKey: twinA.key })
    expect((await readAll(await dest.blobs.read(twinA.key))).equals(bad)).toBe(true)
    expect(await dest.blobs.stat(quarantineKey!)).toBeDefined() // twinB still holds it
    expect(await migrateData(source, dest, { live: false, quietMs: 0 })).toMatchObject({ media: 0, blobsCopied: 0, kept: 1 })
  })

  it('copies quarantined bytes beside a released twin, leaving the twin its content key', async () => {
    const [source, dest] = [await open(), await open()]
    const bad = randomBytes(900)
    const twinA = await storedMedia(source, bad)
    const twinB = await storedMedia(source, bad)
    const scan = { status: 'infected' as const, engine: 'ClamAV test', scannedAt: new Date(), signature: 'Test.Sig', releasedAt: null }
    const { quarantineKey } = await quarantineInfected(source, twinA.key, scan)
    await releaseInfected({ catalog: source.catalog, blobs: source.blobs, discardBlobs: (keys) => source.eraser.discard(keys) }, twinA.id)
    expect(await migrateData(source, dest, { live: false, quietMs: 0 })).toMatchObject({ media: 2, blobsCopied: 2, converged: true })
    expect(await dest.catalog.get(twinA.id)).toMatchObject({ status: 'stored', blobKey: twinA.key })
    expect(await dest.catalog.get(twinB.id)).toMatchObject({ status: 'failed', blobKey: quarantineKey })
    expect((await readAll(await dest.blobs.read(twinA.key))).equals(bad)).toBe(true)
    expect((await readAll(await dest.blobs.read(quarantineKey!))).equals(bad)).toBe(true)
    expect(await dump(dest.catalog)).toEqual(await dump(source.catalog))
  })

  it('refuses a source with live leases, or one that keeps changing, unless live; waits out one that just stopped', async () => {
    const source = await open()
    const [recorded] = await source.catalog.recordWebhooks([webhook([newMedia()])])
    const [job] = await source.catalog.claim({ owner: 'running', limit: 1, leaseMs: 60_000, crashLimit: 8 })
    const leased = await checkSource(source.catalog, { live: false, quietMs: 0 }).catch((e: unknown) => e)
    expect(leased).toMatchObject({ code: 'conflict', message: expect.stringMatching(/1 jobs are leased to a running process \(until .*\)\. Stop the gateway .* --live/) })
    expect((await checkSource(source.catalog, { live: true })).leases).toBe(1)
    await source.catalog.settle(job!.id, 'running', { status: 'failed', error: { code: 'auth', message: 'x', vendorCode: null } })

    let writes = 0
    const writer = setInterval(() => void source.catalog.recordWebhooks([webhook([newMedia()])]).then(() => writes++), 40)
    try {
      await new Promise((r) => setTimeout(r, 100))
      const busy = await checkSource(source.catalog, { live: false, quietMs: 400 }).catch((e: unknown) => e)
      expect(busy).toMatchObject({ code: 'conflict', message: expect.stringMatching(/still changing/) })
    } finally {
      clearInterval(writer)
    }
    expect(writes).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 50))
    const started = Date.now()
    const still = await checkSource(source.catalog, { live: false, quietMs: 400 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    expect(still.rows).toBeGreaterThan(2)
    expect(recorded).toBeDefined()
  })

  it('catches up with what a gateway wrote during the copy, media waiting for their webhook', async () => {
    const [source, dest] = [await open(), await open()]
    await storedMedia(source, randomBytes(300))
    let late: string | undefined
    // A webhook that arrives after the webhooks were copied, before the media are.
    const writing = new Proxy(source.catalog, {
      get(target, prop, receiver) {
        if (prop === 'exportRows') {
          return async (...args: Parameters<Catalog['exportRows']>) => {
            if (args[0] === 'media' && late === undefined) late = (await target.recordWebhooks([webhook([newMedia()])]))[0]!.created[0]!.id
            return target.exportRows(...args)
          }
        }
        const value = Reflect.get(target, prop, receiver) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const stats = await copyUntilStill({ catalog: writing, blobs: source.blobs }, dest, await source.catalog.copyActivity())
    expect(stats).toMatchObject({ converged: true, passes: 2, webhooks: 2, media: 2, waiting: 0 })
    expect((await dest.catalog.get(late!))!.status).toBe('pending')
    expect(await dump(dest.catalog)).toEqual(await dump(source.catalog))
  })
})
