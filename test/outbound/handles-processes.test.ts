/**
 * "Exactly one upload" across processes: several HandleServices, each on its own PostgreSQL
 * catalog (its own pool, as separate gateways would be) over one schema, ask for the same
 * media's handle at once; the emulated Meta sees one upload and every answer carries its id.
 * A process dying mid-upload (its lease left behind) is taken over once the lease ends.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DiskBlobStore } from '../../src/blobs/disk-blob-store.js'
import { PostgresCatalog } from '../../src/catalog/postgres-catalog.js'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { Fetcher } from '../../src/fetch/index.js'
import type { MediaRecord } from '../../src/media/record.js'
import { HandleService } from '../../src/outbound/handles.js'
import { GraphClients } from '../../src/platforms/graph/index.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'

const available = await postgresAvailable()
const NUMBER = '123456789012345'

describe.skipIf(!available)('handles across processes on PostgreSQL', () => {
  let emulator: Emulator
  let schema: TestSchema
  let dir: string
  let blobs: DiskBlobStore
  let fetcher: Fetcher
  const catalogs: PostgresCatalog[] = []

  beforeAll(async () => {
    emulator = await startEmulator({ accessToken: 'emu-token-0123456789', appSecret: 'emu-secret', latencyMs: 30 })
    schema = await createTestSchema()
    dir = await mkdtemp(path.join(tmpdir(), 'mediagate-handles-'))
    blobs = new DiskBlobStore(dir)
    await blobs.init()
    fetcher = new Fetcher({ allowedHosts: ['127.0.0.1'], userAgent: 'mediagate-test/1' })
    for (let i = 0; i < 4; i++) catalogs.push(new PostgresCatalog({ connectionString: POSTGRES_URL, schema: schema.name, poolSize: 3 }))
    await catalogs[0]!.migrate()
  })
  afterAll(async () => {
    for (const c of catalogs) await c.close()
    await schema?.drop()
    await fetcher?.close()
    await blobs?.close()
    await emulator?.close()
    await rm(dir, { recursive: true, force: true })
  })

  function service(catalog: PostgresCatalog, leaseMs?: number): HandleService {
    const graph = new GraphClients({ graphUrl: emulator.url, version: 'v26.0', fetcher, tokens: { whatsapp: new Map(), pages: new Map(), noStorage: new Set() }, defaultToken: emulator.accessToken })
    return new HandleService({ catalog, blobs, graph, marginMs: 24 * 3600_000, pollMs: 20, ...(leaseMs ? { leaseMs } : {}) })
  }

  async function storedMedia(bytes: Buffer): Promise<MediaRecord> {
    const catalog = catalogs[0]!
    const record = await catalog.recordOutbound({ platform: 'whatsapp', accountId: '', messageId: '', attachmentIndex: 0, senderId: null, direction: 'outbound', kind: 'document', sourceType: 'upload', sourceMediaId: null, sourceUrl: null, sourceExpiresAt: null, declaredMime: 'application/pdf', declaredSha256: null, declaredSize: null, filename: 'a.pdf', caption: null, voice: null, animated: null, sentAt: null, error: null })
    const put = await blobs.put(Readable.from([bytes]))
    const stored = await catalog.storeRemote(record.id, { status: 'stored', sha256: put.sha256, size: put.size, blobKey: put.key, sniffedMime: null, mimeType: 'application/pdf' })
    return stored!
  }

  it('concurrent requests in four processes make one upload and share its handle', async () => {
    const bytes = randomBytes(200_000)
    const media = await storedMedia(bytes)
    const before = emulator.stats().uploads
    const services = catalogs.map((c) => service(c))
    const answers = await Promise.all(services.flatMap((s) => [0, 1, 2].map(() => s.handleFor(media, { platform: 'whatsapp', accountId: NUMBER }, AbortSignal.timeout(20_000)))))
    expect(emulator.stats().uploads).toBe(before + 1)
    expect(new Set(answers.map((a) => a.handle.handle)).size).toBe(1)
    expect(answers.filter((a) => !a.reused)).toHaveLength(1)
    expect(answers[0]!.handle.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
  })

  it('an upload left behind by a dead process is taken over after its lease', async () => {
    const media = await storedMedia(randomBytes(1000))
    const key = { sourceSha256: media.sha256!, variant: 'original', platform: 'whatsapp' as const, accountId: NUMBER }
    // The "dead" process claimed and never finished.
    expect(await catalogs[1]!.claimHandle({ ...key, mediaId: media.id, owner: 'dead', leaseMs: 300, marginMs: 0 })).toEqual({ status: 'claimed' })
    const before = emulator.stats().uploads
    const answer = await service(catalogs[2]!).handleFor(media, { platform: 'whatsapp', accountId: NUMBER }, AbortSignal.timeout(20_000))
    expect(answer.reused).toBe(false)
    expect(emulator.stats().uploads).toBe(before + 1)
  })

  it('an upload slower than its lease keeps renewing it: a second process waits and reuses the handle', async () => {
    const media = await storedMedia(randomBytes(5000))
    const before = emulator.stats().uploads
    // The first upload takes 4 s at Meta, well past a 1.5 s lease; without renewal the second
    // process would take the row over and upload the same bytes again.
    emulator.setFaults(NUMBER, { delayMs: 4000, times: 1 })
    try {
      const slow = service(catalogs[0]!, 1500).handleFor(media, { platform: 'whatsapp', accountId: NUMBER }, AbortSignal.timeout(20_000))
      await new Promise((resolve) => setTimeout(resolve, 300))
      const waiting = service(catalogs[3]!, 1500).handleFor(media, { platform: 'whatsapp', accountId: NUMBER }, AbortSignal.timeout(20_000))
      const [first, second] = await Promise.all([slow, waiting])
      expect(emulator.stats().uploads).toBe(before + 1)
      expect(first.reused).toBe(false)
      expect(second.reused).toBe(true)
      expect(second.handle.handle).toBe(first.handle.handle)
    } finally {
      emulator.clearFaults()
    }
  })
})
