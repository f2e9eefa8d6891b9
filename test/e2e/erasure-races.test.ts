/**
 * Erasure racing capture, over real HTTP against the emulator, on disk and on S3 (issue 12):
 * - a media erased while its capture runs leaves no blob behind, whether the erasure comes during
 *   the download (the put is not committed) or between the put and the settlement (the refused
 *   settlement deletes the blob);
 * - erasing one record never deletes the blob another record with the same bytes is about to be
 *   stored with, whether its put already found the blob there or reaches its commit while the
 *   deletion runs: that record ends `stored` and its content is served, byte for byte.
 * The blob store is the real one, wrapped so the test can hold a put after it committed (before
 * the settlement) or a delete before it runs, and see when a put reaches its commit.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BlobStore, blobKeyFor, type PutOptions } from '../../src/blobs/blob-store.js'
import { DiskBlobStore } from '../../src/blobs/disk-blob-store.js'
import { S3BlobStore } from '../../src/blobs/s3-blob-store.js'
import { messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'
import { S3_TEST_CONNECTION, useTestBucket } from '../helpers/s3.js'
import { s3Available } from '../helpers/services.js'
import { until } from '../helpers/until.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

interface Gate {
  /** Resolves once something reached the gate. */
  entered: Promise<void>
  enter(): void
  release(): void
  released: Promise<void>
}

function gate(): Gate {
  let enter!: () => void
  let release!: () => void
  const entered = new Promise<void>((r) => (enter = r))
  const released = new Promise<void>((r) => (release = r))
  return { entered, enter, release, released }
}

/** The real store, with gates the test sets per sha256 (puts) and per key (deletes). */
class GatedStore {
  readonly store: BlobStore
  /** Held after the put committed, before it returns (so before the settlement). */
  readonly putsOf = new Map<string, Gate>()
  /** Entered when a put of these bytes reaches `beforeCommit`; not held. */
  readonly commitsOf = new Map<string, Gate>()
  /** Held before the delete runs. */
  readonly deletesOf = new Map<string, Gate>()
  /** Entered when a put of these bytes ends, committed or not. */
  readonly endsOf = new Map<string, Gate>()

  constructor(readonly inner: BlobStore) {
    const view = Object.create(inner) as BlobStore
    this.store = Object.assign(view, {
      put: async (body: Parameters<BlobStore['put']>[0], options: PutOptions = {}) => {
        const hook = options.beforeCommit
        let seen = options.expectedSha256
        const observed: PutOptions = hook
          ? {
              ...options,
              beforeCommit: async (sha256: string) => {
                seen = sha256
                this.commitsOf.get(sha256)?.enter()
                await hook(sha256)
              },
            }
          : options
        const result = await inner.put(body, observed).finally(() => {
          if (seen) this.endsOf.get(seen)?.enter()
        })
        this.endsOf.get(result.sha256)?.enter()
        const hold = this.putsOf.get(result.sha256)
        if (hold) {
          this.putsOf.delete(result.sha256)
          hold.enter()
          await hold.released
        }
        return result
      },
      delete: async (key: string) => {
        const hold = this.deletesOf.get(key)
        if (hold) {
          this.deletesOf.delete(key)
          hold.enter()
          await hold.released
        }
        return inner.delete(key)
      },
    })
  }
}

/** Whether `promise` settles within `ms` (to tell "reached" from "never got there"). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), sleep(ms).then(() => false)])
}

const STORES = [
  { name: 'disk', skip: false },
  { name: 's3', skip: !(await s3Available()) },
] as const

for (const { name, skip } of STORES) {
  describe.skipIf(skip)(`erasure racing capture, on ${name}`, () => {
    const bucket = name === 's3' ? useTestBucket('erasure-races') : undefined
    let h: Harness
    let gated: GatedStore
    let dir: string

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'mediagate-races-'))
      const inner = bucket
        ? new S3BlobStore({ ...S3_TEST_CONNECTION, bucket: bucket.name, prefix: `races-${randomBytes(3).toString('hex')}` })
        : new DiskBlobStore(path.join(dir, 'blobs'))
      gated = new GatedStore(inner)
      h = await startHarness({ blobs: gated.store })
    })
    afterAll(async () => {
      await h?.close()
      await gated?.inner.close()
      await rm(dir, { recursive: true, force: true })
    })

    const api = async (pathname: string, init?: RequestInit) => h.api(pathname, init)
    const get = async (id: string) => (await (await api(`/v1/media/${id}`)).json()) as MediaJson
    const blobOf = (bytes: Buffer) => gated.inner.stat(blobKeyFor(sha(bytes)))
    const listed = async (bytes: Buffer) => {
      const found: string[] = []
      for await (const blob of gated.inner.list()) if (blob.key === blobKeyFor(sha(bytes))) found.push(blob.key)
      return found
    }

    /** Posts a message carrying `bytes` and returns its record (capture under way, not awaited). */
    async function receive(platform: 'whatsapp' | 'messenger', bytes: Buffer, faults?: Parameters<Harness['emulator']['setFaults']>[1]): Promise<{ id: string; mediaId: string }> {
      let payload: object
      let messageId: string
      let mediaId: string
      if (platform === 'whatsapp') {
        const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'application/pdf' })
        mediaId = media.id
        if (faults) h.emulator.setFaults(media.id, faults)
        const wa = whatsappMessage({ media: { type: 'document', id: media.id, mime_type: 'application/pdf', sha256: media.sha256, filename: 'a.pdf' } })
        messageId = (wa.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
        payload = wa
      } else {
        const media = h.emulator.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'image/jpeg' })
        mediaId = media.id
        if (faults) h.emulator.setFaults(media.id, faults)
        const ms = messengerMessage({ attachments: [{ type: 'image', url: media.url! }] })
        messageId = ms.entry[0]!.messaging[0]!.message!.mid as string
        payload = ms
      }
      expect((await h.postWebhook(payload)).status).toBe(200)
      const [record] = await h.mediaOf(messageId)
      return { id: record!.id, mediaId }
    }

    async function stored(platform: 'whatsapp' | 'messenger', bytes: Buffer): Promise<MediaJson> {
      const { id } = await receive(platform, bytes)
      const [record] = await h.settled([id])
      expect(record!.status).toBe('stored')
      return record!
    }

    async function expectServed(id: string, bytes: Buffer): Promise<void> {
      const res = await api(`/v1/media/${id}/content`)
      expect(res.status).toBe(200)
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true)
    }

    it('a media erased during its download (an unsend a second later) leaves no blob once its capture ends', async () => {
      const bytes = randomBytes(200_000)
      const ended = gate()
      gated.endsOf.set(sha(bytes), ended)
      const { id, mediaId } = await receive('whatsapp', bytes, { stallMs: 800, atByte: 50_000 })
      await until('the download to start', () => (h.emulator.stats().byMedia[mediaId]?.downloadsStarted ?? 0) > 0)
      expect((await api(`/v1/media/${id}`, { method: 'DELETE' })).status).toBe(200)
      await ended.entered
      // Its settlement (refused) and what follows it come right after the put; no blob may be left then.
      await until('no blob for the erased bytes', async () => (await listed(bytes)).length === 0, { timeoutMs: 5000 }).catch(() => undefined)
      expect(await listed(bytes)).toEqual([])
      expect((await get(id)).status).toBe('deleted')
    })

    it('a media erased between its put and its settlement leaves no blob: the refused settlement deletes it', async () => {
      const bytes = randomBytes(5000)
      const held = gate()
      gated.putsOf.set(sha(bytes), held)
      const { id } = await receive('messenger', bytes)
      await held.entered
      expect(await blobOf(bytes)).toBeDefined()
      expect((await api(`/v1/media/${id}`, { method: 'DELETE' })).status).toBe(200)
      held.release()
      await until('the blob of the erased media to go', async () => (await listed(bytes)).length === 0, { timeoutMs: 5000 }).catch(() => undefined)
      expect(await listed(bytes)).toEqual([])
    })

    for (const platform of ['whatsapp', 'messenger'] as const) {
      it(`${platform}: erasing one record keeps the blob another with the same bytes has put but not settled`, async () => {
        const bytes = randomBytes(6000)
        const first = await stored(platform, bytes)
        const held = gate()
        gated.putsOf.set(sha(bytes), held)
        const { id: second } = await receive(platform, bytes)
        await held.entered
        expect((await api(`/v1/media/${first.id}`, { method: 'DELETE' })).status).toBe(200)
        held.release()
        const [record] = await h.settled([second])
        expect(record).toMatchObject({ status: 'stored', sha256: sha(bytes) })
        await expectServed(second, bytes)
        expect(await blobOf(bytes)).toBeDefined()
      })
    }

    it('orphan reconciliation removes a blob no record uses, and keeps one a record uses and one a capture has put but not settled', async () => {
      const orphan = await gated.inner.put(Readable.from([randomBytes(3000)]))
      const usedBytes = randomBytes(3100)
      const used = await stored('whatsapp', usedBytes)
      const inFlight = randomBytes(3200)
      const held = gate()
      gated.putsOf.set(sha(inFlight), held)
      const { id: capturing } = await receive('messenger', inFlight)
      await held.entered
      const eraser = h.internals.parts.eraser
      // Everything written until a minute from now counts as old: the grace period is not under test.
      const result = await eraser.collectOrphans(new Date(Date.now() + 60_000))
      held.release()
      expect(result.deleted).toBeGreaterThanOrEqual(1)
      expect(await gated.inner.stat(orphan.key)).toBeUndefined()
      await expectServed(used.id, usedBytes)
      const [record] = await h.settled([capturing])
      expect(record!.status).toBe('stored')
      await expectServed(capturing, inFlight)
    })

    it('a capture that reaches its commit while the same blob is being deleted waits, and its bytes end up in the store', async () => {
      const bytes = randomBytes(7000)
      const first = await stored('whatsapp', bytes)
      const deleting = gate()
      gated.deletesOf.set(blobKeyFor(sha(bytes)), deleting)
      const erased = api(`/v1/media/${first.id}`, { method: 'DELETE' })
      await deleting.entered
      const committing = gate()
      const ended = gate()
      gated.commitsOf.set(sha(bytes), committing)
      gated.endsOf.set(sha(bytes), ended)
      const { id: second } = await receive('whatsapp', bytes)
      const reached = await within(committing.entered, 5000)
      // A put that did not wait for the deletion would end now, finding the blob still there.
      await within(ended.entered, 1000)
      deleting.release()
      expect((await erased).status).toBe(200)
      const [record] = await h.settled([second])
      expect(record).toMatchObject({ status: 'stored', sha256: sha(bytes) })
      await expectServed(second, bytes)
      expect(reached).toBe(true)
    })
  })

  // Lazy media are captured outside the job engine (first request, `mediagate capture`): their
  // puts lease the key on the remote record, so the same guarantees hold.
  describe.skipIf(skip)(`erasure racing a lazy capture, on ${name}`, () => {
    const bucket = name === 's3' ? useTestBucket('lazy-races') : undefined
    let h: Harness
    let gated: GatedStore
    let dir: string

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'mediagate-lazy-races-'))
      const inner = bucket
        ? new S3BlobStore({ ...S3_TEST_CONNECTION, bucket: bucket.name, prefix: `lazy-races-${randomBytes(3).toString('hex')}` })
        : new DiskBlobStore(path.join(dir, 'blobs'))
      gated = new GatedStore(inner)
      // WhatsApp lazy, Messenger eager: one stored record and one remote record can share bytes.
      h = await startHarness({ blobs: gated.store, env: { MEDIAGATE_POLICY_WHATSAPP: 'lazy' } })
    })
    afterAll(async () => {
      await h?.close()
      await gated?.inner.close()
      await rm(dir, { recursive: true, force: true })
    })

    const api = async (pathname: string, init?: RequestInit) => h.api(pathname, init)
    const blobOf = (bytes: Buffer) => gated.inner.stat(blobKeyFor(sha(bytes)))

    async function receive(platform: 'whatsapp' | 'messenger', bytes: Buffer): Promise<string> {
      let payload: object
      let messageId: string
      if (platform === 'whatsapp') {
        const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'application/pdf' })
        const wa = whatsappMessage({ media: { type: 'document', id: media.id, mime_type: 'application/pdf', sha256: media.sha256, filename: 'a.pdf' } })
        messageId = (wa.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
        payload = wa
      } else {
        const media = h.emulator.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'image/jpeg' })
        const ms = messengerMessage({ attachments: [{ type: 'image', url: media.url! }] })
        messageId = ms.entry[0]!.messaging[0]!.message!.mid as string
        payload = ms
      }
      expect((await h.postWebhook(payload)).status).toBe(200)
      const [record] = await h.mediaOf(messageId)
      return record!.id
    }

    async function expectServed(id: string, bytes: Buffer): Promise<void> {
      const res = await api(`/v1/media/${id}/content`)
      expect(res.status).toBe(200)
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true)
    }

    // A plain GET streams while storing; a range request captures first (as `mediagate capture` does).
    for (const first of ['plain', 'range'] as const) {
      it(`a ${first} first request: erasing a stored record with the same bytes keeps the blob the lazy capture has put but not settled`, async () => {
        const bytes = randomBytes(9000)
        const eager = await receive('messenger', bytes)
        expect((await h.settled([eager]))[0]!.status).toBe('stored')
        const lazy = await receive('whatsapp', bytes)
        expect((await (await api(`/v1/media/${lazy}`)).json()) as MediaJson).toMatchObject({ status: 'remote', policy: 'lazy' })
        const held = gate()
        gated.putsOf.set(sha(bytes), held)
        const answer = api(`/v1/media/${lazy}/content`, first === 'range' ? { headers: { range: 'bytes=0-99' } } : {})
        await held.entered
        expect((await api(`/v1/media/${eager}`, { method: 'DELETE' })).status).toBe(200)
        held.release()
        const res = await answer
        expect(res.status).toBe(first === 'range' ? 206 : 200)
        const body = Buffer.from(await res.arrayBuffer())
        expect(body.equals(first === 'range' ? bytes.subarray(0, 100) : bytes)).toBe(true)
        expect((await (await api(`/v1/media/${lazy}`)).json()) as MediaJson).toMatchObject({ status: 'stored', sha256: sha(bytes) })
        expect(await blobOf(bytes)).toBeDefined()
        await expectServed(lazy, bytes)
      })
    }

    it('a lazy record erased while its first request stores it leaves no blob', async () => {
      const bytes = randomBytes(8000)
      const lazy = await receive('whatsapp', bytes)
      const held = gate()
      gated.putsOf.set(sha(bytes), held)
      const answer = api(`/v1/media/${lazy}/content`, { headers: { range: 'bytes=0-9' } })
      await held.entered
      expect((await api(`/v1/media/${lazy}`, { method: 'DELETE' })).status).toBe(200)
      held.release()
      expect((await answer).status).toBeGreaterThanOrEqual(400)
      await until('the blob of the erased media to go', async () => (await blobOf(bytes)) === undefined, { timeoutMs: 5000 }).catch(() => undefined)
      expect(await blobOf(bytes)).toBeUndefined()
    })
  })
}
