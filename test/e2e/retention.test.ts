/**
 * Retention and erasure over real HTTP: `DELETE /v1/media/{id}`, `mediagate delete`, the
 * periodic retention sweep and `mediagate sweep`. Bytes go, a blob goes only once no live record
 * shares it, and a tombstone (`status: deleted`) stays; its content answers 410 `deleted`. The
 * orphan scan runs once per interval for the whole deployment, on SQLite and PostgreSQL.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { BlobStat, BlobStore } from '../../src/blobs/blob-store.js'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { DiskBlobStore } from '../../src/blobs/disk-blob-store.js'
import type { Catalog } from '../../src/catalog/catalog.js'
import { openCatalog } from '../../src/catalog/open-catalog.js'
import { deleteCommand } from '../../src/cli/commands/delete.js'
import { sweepCommand } from '../../src/cli/commands/sweep.js'
import { verifyCommand } from '../../src/cli/commands/verify.js'
import { messengerMessage } from '../../src/emulator/webhook-payloads.js'
import { MediagateError } from '../../src/errors.js'
import { createLogger } from '../../src/logging/logger.js'
import type { NewMedia } from '../../src/media/record.js'
import { Eraser } from '../../src/retention/eraser.js'
import { retentionRules } from '../../src/retention/retention-rules.js'
import { RetentionSweeper } from '../../src/retention/sweeper.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { newMedia } from '../catalog/fixtures.js'
import { type Harness, startHarness } from '../helpers/harness.js'
import { createTestSchema } from '../helpers/postgres.js'
import { postgresAvailable } from '../helpers/services.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const DAY = 24 * 60 * 60 * 1000

let h: Harness
beforeAll(async () => {
  h = await startHarness({ env: { MEDIAGATE_RETENTION_DAYS: '30', MEDIAGATE_RETENTION_DAYS_INSTAGRAM: '0', MEDIAGATE_RETENTION_DAYS_MESSENGER: '90' } })
})
afterAll(async () => h?.close())

async function whatsapp(bytes: Buffer, caption = 'a caption'): Promise<MediaJson> {
  return h.storedWhatsApp(bytes, { type: 'document', mimeType: 'application/pdf', fields: { filename: 'contract.pdf', caption } })
}

async function messenger(bytes: Buffer): Promise<MediaJson> {
  const media = h.emulator.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'image/jpeg' })
  const payload = messengerMessage({ attachments: [{ type: 'image', url: media.url! }] })
  await h.postWebhook(payload)
  const [m] = await h.mediaOf(payload.entry[0]!.messaging[0]!.message!.mid as string)
  const [record] = await h.settled([m!.id])
  expect(record!.status).toBe('stored')
  return record!
}

const get = async (id: string) => (await (await h.api(`/v1/media/${id}`)).json()) as MediaJson
const blobOf = (bytes: Buffer) => h.gateway.blobs.stat(blobKeyFor(sha(bytes)))

/** Records media directly in the catalog as if received `daysAgo` days ago (a webhook is always "now"). */
async function receivedDaysAgo(daysAgo: number, media: Partial<NewMedia>): Promise<string> {
  const base = newMedia({
    messageId: `wamid.old-${randomBytes(6).toString('hex')}`,
    sourceMediaId: '123',
    error: { code: 'meta_error', message: 'kept out of the queue' },
  })
  const [result] = await h.gateway.catalog.recordWebhooks([
    { object: 'whatsapp_business_account', body: randomBytes(16), receivedAt: new Date(Date.now() - daysAgo * DAY), media: [{ ...base, ...media }] },
  ])
  return result!.created[0]!.id
}

describe('DELETE /v1/media/{id}', () => {
  it('removes the bytes and keeps a tombstone without the content; again is the same tombstone', async () => {
    const bytes = randomBytes(4000)
    const record = await whatsapp(bytes)
    const res = await h.api(`/v1/media/${record.id}`, { method: 'DELETE' })
    expect(res.status).toBe(200)
    const tombstone = (await res.json()) as MediaJson
    expect(tombstone).toMatchObject({ id: record.id, status: 'deleted', sha256: sha(bytes), size: bytes.length, caption: null, filename: null, message_id: record.message_id })
    expect(Date.parse(tombstone.deleted_at!)).toBeGreaterThan(Date.now() - 10_000)
    expect(await blobOf(bytes)).toBeUndefined()
    expect(await get(record.id)).toEqual(tombstone)

    const content = await h.api(`/v1/media/${record.id}/content`)
    expect(content.status).toBe(410)
    expect(await content.json()).toMatchObject({ error: { code: 'deleted' } })
    const again = await h.api(`/v1/media/${record.id}`, { method: 'DELETE' })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual(tombstone)
    expect((await h.api(`/v1/media/${record.id}/retry`, { method: 'POST' })).status).toBe(409)
    const listed = (await (await h.api('/v1/media?status=deleted&limit=1000')).json()) as { data: MediaJson[] }
    expect(listed.data.map((m) => m.id)).toContain(record.id)
  })

  it('keeps a blob another record still uses, and removes it with the last one', async () => {
    const bytes = randomBytes(3000)
    const a = await whatsapp(bytes)
    const b = await whatsapp(bytes)
    expect(a.sha256).toBe(b.sha256)
    expect((await h.api(`/v1/media/${a.id}`, { method: 'DELETE' })).status).toBe(200)
    expect(await blobOf(bytes)).toBeDefined()
    const content = await h.api(`/v1/media/${b.id}/content`)
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(bytes))
    expect((await h.api(`/v1/media/${b.id}`, { method: 'DELETE' })).status).toBe(200)
    expect(await blobOf(bytes)).toBeUndefined()
  })

  it('answers 404 for unknown ids and 401 without the API key', async () => {
    expect((await h.api('/v1/media/med_00000000000000000000000000', { method: 'DELETE' })).status).toBe(404)
    const record = await whatsapp(randomBytes(100))
    expect((await fetch(`${h.gateway.url}/v1/media/${record.id}`, { method: 'DELETE' })).status).toBe(401)
    expect((await get(record.id)).status).toBe('stored')
  })
})

describe('mediagate delete', () => {
  it('erases the named media, and fails naming the ids it does not know', async () => {
    const bytes = randomBytes(2000)
    const record = await whatsapp(bytes)
    let out = ''
    const command = deleteCommand({ write: (s: string) => (out += s) })
    await expect(command.parseAsync([record.id, 'med_00000000000000000000000000', '--data-dir', h.dataDir], { from: 'user' })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('med_00000000000000000000000000'),
    })
    expect(out).toMatch(new RegExp(`^deleted ${record.id} \\(whatsapp document, deleted at `, 'm'))
    expect((await get(record.id)).status).toBe('deleted')
    expect(await blobOf(bytes)).toBeUndefined()
  })
})

describe('retention', () => {
  it('reads the per-platform settings over the global one; 0 keeps forever', () => {
    expect(retentionRules(h.gateway.config)).toEqual({ whatsapp: 30, messenger: 90 })
    expect(retentionRules({ retentionDays: undefined, retentionDaysWhatsapp: 7, retentionDaysMessenger: undefined, retentionDaysInstagram: undefined })).toEqual({ whatsapp: 7 })
  })

  it('the sweep deletes what is past each platform\'s retention, and nothing younger', async () => {
    const waBytes = randomBytes(1500)
    const msBytes = randomBytes(1600)
    const wa = await whatsapp(waBytes)
    const ms = await messenger(msBytes)
    const sweeper = h.internals.sweeper!
    expect(await sweeper.runOnce(new Date(Date.now() + 29 * DAY))).toMatchObject({ deleted: { whatsapp: 0, messenger: 0 } })
    expect((await get(wa.id)).status).toBe('stored')

    const result = await sweeper.runOnce(new Date(Date.now() + 31 * DAY))
    expect(result.deleted.whatsapp).toBeGreaterThanOrEqual(1)
    expect(result.deleted.messenger).toBe(0)
    expect(result.deleted.instagram).toBeUndefined()
    expect(await get(wa.id)).toMatchObject({ status: 'deleted', caption: null })
    expect(await blobOf(waBytes)).toBeUndefined()
    expect((await get(ms.id)).status).toBe('stored')
    expect(await blobOf(msBytes)).toBeDefined()

    await sweeper.runOnce(new Date(Date.now() + 91 * DAY))
    expect((await get(ms.id)).status).toBe('deleted')
    expect(await blobOf(msBytes)).toBeUndefined()
    const content = await h.api(`/v1/media/${ms.id}/content`)
    expect(content.status).toBe(410)
  })

  it('`mediagate sweep` deletes media received before the cutoff, keeping Instagram forever', async () => {
    const old = await receivedDaysAgo(45, {})
    const young = await receivedDaysAgo(10, {})
    const oldInstagram = await receivedDaysAgo(400, { platform: 'instagram', sourceMediaId: null })
    let out = ''
    await sweepCommand({ write: (s: string) => (out += s) }).parseAsync(['--data-dir', h.dataDir, '--retention-days', '30', '--retention-days-instagram', '0'], { from: 'user' })
    expect(out).toMatch(/^whatsapp: deleted [1-9]\d* media older than 30 days$/m)
    expect(out).toMatch(/^instagram: no retention set, kept forever$/m)
    expect((await get(old)).status).toBe('deleted')
    expect((await get(young)).status).toBe('failed')
    expect((await get(oldInstagram)).status).toBe('failed')
  })

  it('runs periodically, and finishes blob deletions a failing blob store left on tombstones', async () => {
    const bytes = randomBytes(2500)
    const record = await whatsapp(bytes)
    let failing = true
    const blobs = h.gateway.blobs
    // The part under test is the eraser and the sweep; the store stands in for one that is down.
    const flaky: BlobStore = Object.assign(Object.create(blobs) as BlobStore, {
      delete: async (key: string) => {
        if (failing) throw new MediagateError('storage', 'the blob store is down')
        return blobs.delete(key)
      },
    })
    const logger = createLogger('silent')
    const eraser = new Eraser({ catalog: h.gateway.catalog, blobs: flaky, logger })
    const [tombstone] = await eraser.erase([record.id])
    expect(tombstone).toMatchObject({ status: 'deleted', blobKey: blobKeyFor(sha(bytes)) })
    expect(await blobOf(bytes)).toBeDefined()
    expect(await h.gateway.catalog.tombstoneBlobKeys(100)).toContain(blobKeyFor(sha(bytes)))

    failing = false
    const sweeper = new RetentionSweeper({ catalog: h.gateway.catalog, eraser, logger, rules: { whatsapp: 30 }, intervalMs: 30, firstDelayMs: 10 })
    sweeper.start()
    try {
      for (let i = 0; i < 100 && (await blobOf(bytes)) !== undefined; i++) await new Promise((r) => setTimeout(r, 20))
    } finally {
      await sweeper.stop()
    }
    expect(await blobOf(bytes)).toBeUndefined()
    expect(await h.gateway.catalog.tombstoneBlobKeys(100)).not.toContain(blobKeyFor(sha(bytes)))
    expect((await h.gateway.catalog.get(record.id))!.blobKey).toBeNull()
  })
})

describe('orphan blobs (in the store, used by no record)', () => {
  const HOUR = 60 * 60 * 1000
  /** Puts bytes straight into the store, as a put whose record never settled would have. */
  async function orphan(hoursAgo: number): Promise<string> {
    const { key } = await h.gateway.blobs.put(Readable.from([randomBytes(1200)]))
    if (hoursAgo > 0) await age(key, hoursAgo)
    return key
  }
  async function age(key: string, hoursAgo: number): Promise<void> {
    const when = new Date(Date.now() - hoursAgo * HOUR)
    await utimes(path.join(h.dataDir, 'blobs', key), when, when)
  }
  async function verify(...args: string[]): Promise<string> {
    let out = ''
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk)
      return true
    })
    try {
      await verifyCommand().parseAsync(['--data-dir', h.dataDir, ...args], { from: 'user' })
    } finally {
      write.mockRestore()
    }
    return out
  }

  it('verify reports an orphan older than an hour; the sweep removes it and keeps a younger one and one a record uses', async () => {
    const old = await orphan(2)
    const young = await orphan(0)
    const bytes = randomBytes(1300)
    const used = await whatsapp(bytes)
    await age(blobKeyFor(used.sha256!), 2)

    const report = await verify()
    expect(report).toMatch(new RegExp(`^orphan: ${old} \\(1200 bytes, written .*, no record uses it\\)$`, 'm'))
    expect(report).not.toContain(young)
    expect(report).not.toContain(`orphan: ${blobKeyFor(used.sha256!)}`)
    expect(report).toMatch(/^orphans: [1-9]\d* blobs \(\d+ bytes\) no record uses, written over an hour ago; the retention sweep removes them/m)
    expect(await h.gateway.blobs.stat(old)).toBeDefined()

    let out = ''
    await sweepCommand({ write: (s: string) => (out += s) }).parseAsync(['--data-dir', h.dataDir], { from: 'user' })
    expect(out).toMatch(/^orphan blobs removed \(no record used them\): [1-9]\d*$/m)
    expect(await h.gateway.blobs.stat(old)).toBeUndefined()
    expect(await h.gateway.blobs.stat(young)).toBeDefined()
    const content = await h.api(`/v1/media/${used.id}/content`)
    expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true)
    expect(await verify()).not.toContain(old)
    await h.gateway.blobs.delete(young)
  })

  it('the periodic sweep removes orphans also without any retention set', async () => {
    const old = await orphan(3)
    // `mediagate sweep` above scanned: a scan is due again once this interval has passed since.
    const sweeper = new RetentionSweeper({ catalog: h.gateway.catalog, eraser: h.internals.parts.eraser, logger: createLogger('silent'), rules: {}, intervalMs: 30, firstDelayMs: 10, orphansEveryMs: 100 })
    sweeper.start()
    try {
      for (let i = 0; i < 200 && (await h.gateway.blobs.stat(old)) !== undefined; i++) await new Promise((r) => setTimeout(r, 20))
    } finally {
      await sweeper.stop()
    }
    expect(await h.gateway.blobs.stat(old)).toBeUndefined()
  })

  it('verify --remove-orphans removes them now, and a tombstone that held the key lets go of it', async () => {
    const bytes = randomBytes(1400)
    const record = await whatsapp(bytes)
    const key = blobKeyFor(record.sha256!)
    // A deletion that failed halfway: the tombstone still holds the key, the blob is still there.
    await h.gateway.catalog.markDeleted([record.id])
    await age(key, 2)
    const out = await verify('--remove-orphans')
    expect(out).toContain(`orphan: ${key} (1400 bytes`)
    expect(out).toMatch(new RegExp(`orphan: ${key} .*→ removed$`, 'm'))
    expect(out).toMatch(/; [1-9]\d* removed$/m)
    expect(await h.gateway.blobs.stat(key)).toBeUndefined()
    expect((await h.gateway.catalog.get(record.id))!.blobKey).toBeNull()
  })
})

const pgAvailable = await postgresAvailable()

/**
 * Worker processes on one catalog and one blob store: each "process" opens its own catalog
 * connection and sweeper, and a restart is a new one. The orphan scan's schedule lives in the
 * catalog, so neither restarts nor more processes scan again within the interval.
 */
describe.each([
  { engine: 'sqlite', skip: false },
  { engine: 'postgres', skip: !pgAvailable },
])('the orphan scan across processes and restarts ($engine)', ({ engine, skip }) => {
  const HOUR = 60 * 60 * 1000
  const EVERY_MS = 1500
  let dir: string
  let databaseUrl: string
  let blobs: DiskBlobStore
  let dropSchema: (() => Promise<void>) | undefined
  const opened: Catalog[] = []

  beforeAll(async () => {
    if (skip) return
    dir = await mkdtemp(path.join(tmpdir(), 'mediagate-orphan-schedule-'))
    if (engine === 'postgres') {
      const schema = await createTestSchema()
      dropSchema = () => schema.drop()
      databaseUrl = schema.url
    } else databaseUrl = `sqlite:${path.join(dir, 'mediagate.db')}`
    blobs = new DiskBlobStore(path.join(dir, 'blobs'))
    await blobs.init()
    const first = await openCatalog(databaseUrl)
    opened.push(first)
    await first.migrate()
  })
  afterAll(async () => {
    await Promise.allSettled(opened.map((c) => c.close()))
    await dropSchema?.()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  /** A worker process: its own catalog connection, eraser and sweeper, over `store`. */
  async function startProcess(store: BlobStore = blobs): Promise<RetentionSweeper> {
    const catalog = await openCatalog(databaseUrl)
    opened.push(catalog)
    const logger = createLogger('silent')
    return new RetentionSweeper({ catalog, eraser: new Eraser({ catalog, blobs: store, logger }), logger, rules: {}, orphansEveryMs: EVERY_MS })
  }
  async function orphan(): Promise<string> {
    const { key } = await blobs.put(Readable.from([randomBytes(1200)]))
    const when = new Date(Date.now() - 2 * HOUR)
    await utimes(path.join(dir, 'blobs', key), when, when)
    return key
  }
  const sweepByHand = (...args: string[]) => {
    let out = ''
    return sweepCommand({ write: (text: string) => (out += text) })
      .parseAsync(['--database-url', databaseUrl, '--storage-url', `file:${path.join(dir, 'blobs')}`, ...args], { from: 'user' })
      .then(() => out)
  }
  /** A store whose listing, once `listing` resolved (a scan claimed and began), waits for `open()`: a scan still running. */
  function slowStore(): { store: BlobStore; listing: Promise<void>; open: () => void } {
    let open!: () => void
    let began!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    const listing = new Promise<void>((resolve) => (began = resolve))
    const store: BlobStore = Object.assign(Object.create(blobs) as BlobStore, {
      list: async function* (): AsyncIterable<BlobStat> {
        began()
        await gate
        yield* blobs.list()
      },
    })
    return { store, listing, open }
  }
  const until = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())))

  it.skipIf(skip)('a restart does not scan again within the interval, and one of the processes does after it', async () => {
    const first = await orphan()
    const worker = await startProcess()
    expect(await worker.runOnce()).toMatchObject({ orphansScanned: true, orphansDeleted: 1 })
    // Read after the scan, not before: the interval runs from when it claimed, which on a busy machine is later than the call.
    const scannedAt = Date.now()
    expect(await blobs.stat(first)).toBeUndefined()
    await worker.stop()

    const second = await orphan()
    const [restarted, another] = [await startProcess(), await startProcess()]
    expect(await restarted.runOnce()).toMatchObject({ orphansScanned: false, orphansDeleted: 0 })
    expect(await another.runOnce()).toMatchObject({ orphansScanned: false })
    expect(await blobs.stat(second)).toBeDefined()

    await until(scannedAt + EVERY_MS + 50)
    const results = await Promise.all([restarted.runOnce(), another.runOnce()])
    expect(results.map((r) => r.orphansScanned).sort()).toEqual([false, true])
    expect(results.reduce((n, r) => n + r.orphansDeleted, 0)).toBe(1)
    expect(await blobs.stat(second)).toBeUndefined()
    expect(await restarted.runOnce()).toMatchObject({ orphansScanned: false })
  })

  it.skipIf(skip)('`mediagate sweep` scans whenever the workers last did, and the workers\' next scan is an interval after it', async () => {
    const worker = await startProcess()
    await until(Date.now() + EVERY_MS + 50)
    expect(await worker.runOnce()).toMatchObject({ orphansScanned: true })
    const workerScannedAt = Date.now()
    await until(workerScannedAt + 700)
    const old = await orphan()
    expect(await sweepByHand()).toMatch(/^orphan blobs removed \(no record used them\): 1$/m)
    const byHandAt = Date.now()
    expect(await blobs.stat(old)).toBeUndefined()
    // Due by the worker's own scan, but the one by hand started over 700 ms later.
    await until(workerScannedAt + EVERY_MS + 50)
    expect(await worker.runOnce()).toMatchObject({ orphansScanned: false })
    await until(byHandAt + EVERY_MS + 50)
    expect(await worker.runOnce()).toMatchObject({ orphansScanned: true })
  })

  it.skipIf(skip)('a process killed mid-scan holds the scan for the interval; one stopped mid-scan gives it back at once', async () => {
    const other = await startProcess()
    await until(Date.now() + EVERY_MS + 50)
    // Killed: its scan never ends and never gives the claim back.
    const killed = slowStore()
    const dying = await startProcess(killed.store)
    const hung = dying.runOnce()
    await killed.listing
    const claimedAt = Date.now()
    expect(await other.runOnce()).toMatchObject({ orphansScanned: false })
    await until(claimedAt + EVERY_MS + 50)
    expect(await other.runOnce()).toMatchObject({ orphansScanned: true })
    const otherScannedAt = Date.now()

    // Stopped (a shutdown) mid-scan: it lists no further, and the next pass of any process scans.
    await until(otherScannedAt + EVERY_MS + 50)
    const old = await orphan()
    const stopping = slowStore()
    const leaving = await startProcess(stopping.store)
    const leavingPass = leaving.runOnce()
    await stopping.listing
    expect(await other.runOnce()).toMatchObject({ orphansScanned: false })
    const stopped = leaving.stop()
    stopping.open()
    await stopped
    expect(await leavingPass).toMatchObject({ orphansScanned: true, orphansDeleted: 0 })
    expect(await blobs.stat(old)).toBeDefined()
    expect(await other.runOnce()).toMatchObject({ orphansScanned: true, orphansDeleted: 1 })
    expect(await blobs.stat(old)).toBeUndefined()
    killed.open()
    await hung
    await dying.stop()
  })
})
