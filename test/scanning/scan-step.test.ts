/**
 * The scan step's answer when clamd cannot scan: the media stays pending with its verified bytes
 * kept, due again after a backoff, even when its source has long expired (a scanner outage is
 * not the source's failure); and the capture it wraps resumes from the kept bytes without
 * downloading. A real disk store and a real refused connection; no clamd needed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BlobStore } from '../../src/blobs/blob-store.js'
import { DiskBlobStore } from '../../src/blobs/disk-blob-store.js'
import { keptBytes, scanningCapture, scanStep } from '../../src/capture/capture-scanned.js'
import type { StoredOutcome } from '../../src/catalog/catalog.js'
import type { MediaRecord } from '../../src/media/record.js'
import { ClamdClient } from '../../src/scanning/clamd-client.js'
import { Scanner } from '../../src/scanning/scanner.js'

let dir: string
let blobs: BlobStore
let scanner: Scanner
let stored: StoredOutcome

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-scan-step-'))
  blobs = new DiskBlobStore(dir)
  await blobs.init()
  const put = await blobs.put(Readable.from([Buffer.from('verified bytes')]))
  stored = { status: 'stored', sha256: put.sha256, size: put.size, blobKey: put.key, sniffedMime: null, mimeType: 'application/pdf' }
  // A port nothing listens on: every scan fails to connect, as with clamd down.
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((r) => server.close(r))
  scanner = new Scanner({ client: new ClamdClient({ address: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 1000, streamMaxBytes: 1_000_000 }), streamMaxBytes: 1_000_000, oversize: 'fail' })
})

afterAll(async () => {
  await blobs?.close()
  await rm(dir, { recursive: true, force: true })
})

const deps = () => ({ scanner, blobs, catalog: { quarantineBlob: async () => [] }, retry: { baseDelayMs: 1000, maxDelayMs: 300_000 }, now: () => new Date('2030-01-01T00:00:00.000Z') })

describe('the scan step with clamd down', () => {
  it('keeps the bytes and retries with backoff, whatever the source deadline', async () => {
    const settlement = await scanStep({ attempts: 40 }, stored, deps(), new AbortController().signal)
    expect(settlement).toMatchObject({ status: 'retry', error: { code: 'scanner', vendorCode: 'ECONNREFUSED' }, kept: { blobKey: stored.blobKey, sha256: stored.sha256, size: stored.size }, scan: { status: 'error' } })
    if (settlement.status !== 'retry') throw new Error('not a retry')
    const delay = settlement.nextAttemptAt.getTime() - Date.parse('2030-01-01T00:00:00.000Z')
    expect(delay).toBeGreaterThanOrEqual(150_000)
    expect(delay).toBeLessThanOrEqual(300_000)
  })

  it('resumes a record that kept its bytes without calling the download', async () => {
    const media = { status: 'pending', blobKey: stored.blobKey, sha256: stored.sha256, size: stored.size, sniffedMime: null, mimeType: 'application/pdf', attempts: 2, sourceExpiresAt: new Date('2000-01-01') } as unknown as MediaRecord
    expect(keptBytes(media)).toEqual({ blobKey: stored.blobKey, sha256: stored.sha256, size: stored.size, sniffedMime: null, mimeType: 'application/pdf' })
    let downloads = 0
    const capture = scanningCapture(async () => {
      downloads++
      return stored
    }, deps())
    expect(await capture(media, new AbortController().signal)).toMatchObject({ status: 'retry', kept: { blobKey: stored.blobKey } })
    expect(downloads).toBe(0)
    // Bytes that are gone from the store are fetched again.
    expect(await capture({ ...media, blobKey: 'sha256/00/00/' + '0'.repeat(64) }, new AbortController().signal)).toMatchObject({ status: 'retry' })
    expect(downloads).toBe(1)
  })
})
