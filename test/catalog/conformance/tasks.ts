/**
 * The generic task queue (migration 8): queued with the settlement that stores a media, idempotent
 * per kind and media, claimed per kind with leases and the crash limit, settled, and due times.
 * Derivatives: reserved keys count as uses of their blobs, are refused during a deletion, and
 * go with their media's erasure.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { ConformanceContext, TestCatalog } from '../conformance.js'
import { seed } from '../fixtures.js'
import { stored } from './claim.js'

const LATER = () => new Date(Date.now() + 1000)

function claimDerive(catalog: TestCatalog, owner: string, options: { now?: Date; limit?: number; leaseMs?: number; crashLimit?: number } = {}) {
  return catalog.claimTasks({ kind: 'derive', owner, limit: options.limit ?? 10, leaseMs: options.leaseMs ?? 60_000, crashLimit: options.crashLimit ?? 8, now: options.now ?? LATER() })
}

/** A media captured and stored; `enqueue` queues tasks with the settlement. */
async function storedMedia(catalog: TestCatalog, enqueue?: string[], sha256 = randomBytes(32).toString('hex')): Promise<string> {
  const [id] = await seed(catalog, 1)
  const [job] = await catalog.claim({ owner: 'cap', limit: 1, leaseMs: 60_000, crashLimit: 8 })
  expect(job?.id).toBe(id)
  expect(await catalog.settle(id!, 'cap', { ...stored({ sha256 }), ...(enqueue ? { enqueue } : {}) })).toBe(true)
  return id!
}

const keyOf = () => {
  const sha256 = randomBytes(32).toString('hex')
  return `sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`
}

export function taskTests(ctx: ConformanceContext): void {
  describe('task queue', () => {
    it('a stored settlement queues its tasks in the same call and marks deriving pending', async () => {
      const catalog = ctx.catalog()
      const id = await storedMedia(catalog, ['derive', 'scan'])
      expect(await catalog.getTask('derive', id)).toMatchObject({ kind: 'derive', mediaId: id, attempts: 0, leaseOwner: null, lastError: null })
      expect((await catalog.getTask('derive', id))!.id).toMatch(/^tsk_/)
      expect(await catalog.getTask('scan', id)).toBeDefined()
      expect((await catalog.get(id))!.derivatives).toEqual({ status: 'pending', error: null })
      const plain = await storedMedia(catalog)
      expect(await catalog.getTask('derive', plain)).toBeUndefined()
      expect((await catalog.get(plain))!.derivatives).toBeNull()
    })

    it('a stored settlement that says deriving is skipped records why, queues no derive task, and still queues the others', async () => {
      const catalog = ctx.catalog()
      const [id, other] = await seed(catalog, 2)
      const jobs = await catalog.claim({ owner: 'cap', limit: 2, leaseMs: 60_000, crashLimit: 8 })
      expect(jobs.map((j) => j.id).sort()).toEqual([id, other].sort())
      const reason = 'nothing to derive from an unrecognized type'
      expect(
        await catalog.settleMany([
          { id: id!, owner: 'cap', settlement: { ...stored(), deriveSkipped: reason } },
          { id: other!, owner: 'cap', settlement: { ...stored(), enqueue: ['scan'], deriveSkipped: reason } },
        ]),
      ).toEqual([true, true])
      expect((await catalog.get(id!))!.derivatives).toEqual({ status: 'skipped', error: reason })
      expect(await catalog.getTask('derive', id!)).toBeUndefined()
      expect(await catalog.getTask('derive', other!)).toBeUndefined()
      expect(await catalog.getTask('scan', other!)).toBeDefined()
      expect(await catalog.nextTaskDueAt('derive')).toBeNull()
      // A remote (lazy) record stored later takes the same path.
      const [remote] = await seed(catalog, 1, { policy: 'lazy' })
      expect(await catalog.storeRemote(remote!, { ...stored(), deriveSkipped: reason })).toMatchObject({ status: 'stored', derivatives: { status: 'skipped', error: reason } })
      expect(await catalog.getTask('derive', remote!)).toBeUndefined()
    })

    it('enqueue is idempotent per kind and media, and brings a failed task back', async () => {
      const catalog = ctx.catalog()
      const id = await storedMedia(catalog)
      const later = new Date(Date.now() + 3_600_000)
      expect(await catalog.enqueueTasks([{ kind: 'derive', mediaId: id, dueAt: later }])).toBe(1)
      const first = await catalog.getTask('derive', id)
      expect(await catalog.enqueueTasks([{ kind: 'derive', mediaId: id }])).toBe(0)
      expect(await catalog.getTask('derive', id)).toEqual(first)
      const [task] = await claimDerive(catalog, 'w', { now: new Date(later.getTime() + 1) })
      expect(task!.id).toBe(first!.id)
      expect(await catalog.settleTask(task!.id, 'w', { status: 'failed', error: 'corrupt image' })).toBe(true)
      expect(await catalog.getTask('derive', id)).toMatchObject({ dueAt: null, lastError: 'corrupt image', attempts: 1 })
      expect(await catalog.nextTaskDueAt('derive')).toBeNull()
      expect(await catalog.enqueueTasks([{ kind: 'derive', mediaId: id }])).toBe(1)
      expect(await catalog.getTask('derive', id)).toMatchObject({ id: first!.id, attempts: 0, lastError: null })
      expect((await catalog.getTask('derive', id))!.dueAt).toBeInstanceOf(Date)
    })

    it('claims per kind, oldest due first, leased to one claimer; done deletes, retry waits', async () => {
      const catalog = ctx.catalog()
      const ids = [await storedMedia(catalog), await storedMedia(catalog), await storedMedia(catalog)]
      const t0 = Date.now()
      await catalog.enqueueTasks([
        { kind: 'derive', mediaId: ids[2]!, dueAt: new Date(t0 - 3000) },
        { kind: 'derive', mediaId: ids[0]!, dueAt: new Date(t0 - 1000) },
        { kind: 'scan', mediaId: ids[1]!, dueAt: new Date(t0 - 5000) },
        { kind: 'derive', mediaId: ids[1]!, dueAt: new Date(t0 + 60_000) },
      ])
      const claimed = await claimDerive(catalog, 'a', { now: new Date(t0) })
      expect(claimed.map((t) => t.mediaId)).toEqual([ids[2], ids[0]])
      expect(claimed.every((t) => t.attempts === 1 && t.leaseOwner === 'a' && t.kind === 'derive')).toBe(true)
      expect(await claimDerive(catalog, 'b', { now: new Date(t0) })).toEqual([])
      expect(await catalog.nextTaskDueAt('derive')).toEqual(new Date(t0 + 60_000))
      expect(await catalog.renewTasks([claimed[0]!.id, claimed[1]!.id], 'b', 60_000)).toEqual([])
      expect((await catalog.renewTasks([claimed[0]!.id], 'a', 60_000)).length).toBe(1)
      expect(await catalog.settleTask(claimed[0]!.id, 'b', { status: 'done' })).toBe(false)
      expect(await catalog.settleTask(claimed[0]!.id, 'a', { status: 'done' })).toBe(true)
      expect(await catalog.getTask('derive', ids[2]!)).toBeUndefined()
      const retryAt = new Date(t0 + 30_000)
      expect(await catalog.settleTask(claimed[1]!.id, 'a', { status: 'retry', error: 'busy', dueAt: retryAt })).toBe(true)
      expect(await catalog.getTask('derive', ids[0]!)).toMatchObject({ dueAt: retryAt, lastError: 'busy', leaseOwner: null })
      expect(await catalog.nextTaskDueAt('derive')).toEqual(retryAt)
      expect((await claimDerive(catalog, 'b', { now: new Date(t0 + 30_000) })).map((t) => t.mediaId)).toEqual([ids[0]])
      expect((await catalog.claimTasks({ kind: 'scan', owner: 's', limit: 5, leaseMs: 1000, crashLimit: 8 })).map((t) => t.mediaId)).toEqual([ids[1]])
    })

    it('settleTaskAndClaim: settles the task and claims the next ones of its kind in one call', async () => {
      const catalog = ctx.catalog()
      const ids = await seed(catalog, 4)
      const t0 = Date.now()
      await catalog.enqueueTasks(ids.map((mediaId, i) => ({ kind: 'derive', mediaId, dueAt: new Date(t0 - 4000 + i * 1000) })))
      await catalog.enqueueTasks([{ kind: 'scan', mediaId: ids[3]!, dueAt: new Date(t0 - 9000) }])
      const [first] = await claimDerive(catalog, 'a', { limit: 1 })
      expect(first!.mediaId).toBe(ids[0])
      const { applied, claimed } = await catalog.settleTaskAndClaim(first!.id, 'a', { status: 'done' }, { kind: 'derive', owner: 'a', limit: 2, leaseMs: 60_000, crashLimit: 8, now: LATER() })
      expect(applied).toBe(true)
      expect(await catalog.getTask('derive', ids[0]!)).toBeUndefined()
      expect(claimed.map((t) => t.mediaId)).toEqual([ids[1], ids[2]])
      expect(claimed.every((t) => t.leaseOwner === 'a' && t.attempts === 1)).toBe(true)
      // A refused settlement (not the owner) still claims; nothing of another kind is taken.
      const refused = await catalog.settleTaskAndClaim(claimed[0]!.id, 'b', { status: 'done' }, { kind: 'derive', owner: 'b', limit: 5, leaseMs: 60_000, crashLimit: 8, now: LATER() })
      expect(refused.applied).toBe(false)
      expect(refused.claimed.map((t) => t.mediaId)).toEqual([ids[3]])
      expect(await catalog.getTask('derive', ids[1]!)).toMatchObject({ leaseOwner: 'a' })
      expect(await catalog.getTask('scan', ids[3]!)).toMatchObject({ leaseOwner: null, attempts: 0 })
    })

    it('a refunded retry gives the attempt back', async () => {
      const catalog = ctx.catalog()
      const id = await storedMedia(catalog, ['derive'])
      const [task] = await claimDerive(catalog, 'a')
      expect(await catalog.settleTask(task!.id, 'a', { status: 'retry', error: 'stopping', dueAt: new Date(), refundAttempt: true })).toBe(true)
      expect(await catalog.getTask('derive', id)).toMatchObject({ attempts: 0 })
    })

    it('never gives one task to two of several concurrent claimers', async () => {
      const catalog = ctx.catalog()
      const ids = await seed(catalog, 60)
      await catalog.enqueueTasks(ids.map((mediaId) => ({ kind: 'derive', mediaId })))
      const claimers = await Promise.all([0, 1, 2].map(() => ctx.open()))
      const got: string[] = []
      await Promise.all(
        claimers.map(async (claimer, i) => {
          for (let round = 0; round < 60; round++) {
            const batch = await claimDerive(claimer, `c${i}`, { limit: 7 })
            if (batch.length === 0) return
            got.push(...batch.map((t) => t.mediaId))
          }
        }),
      )
      expect(got.sort()).toEqual([...ids].sort())
    })

    it('gives up on a task whose attempts never finish: failed as crashed after crashLimit claims', async () => {
      const catalog = ctx.catalog()
      const id = await storedMedia(catalog, ['derive'])
      const t0 = Date.now() + 1000
      const crashLimit = 3
      for (let i = 0; i < crashLimit; i++) {
        const claimed = await claimDerive(catalog, `w${i}`, { now: new Date(t0 + i * 2000), leaseMs: 1000, crashLimit })
        expect(claimed.map((t) => t.mediaId)).toEqual([id])
      }
      expect(await claimDerive(catalog, 'w-last', { now: new Date(t0 + crashLimit * 2000), leaseMs: 1000, crashLimit })).toEqual([])
      const task = await catalog.getTask('derive', id)
      expect(task).toMatchObject({ dueAt: null, leaseOwner: null })
      expect(task!.lastError).toMatch(/^crashed: gave up after 3 attempts in a row/)
    })
  })

  describe('derivatives', () => {
    it('reserves keys for stored media only; records facts and completes the ready ones', async () => {
      const catalog = ctx.catalog()
      const id = await storedMedia(catalog, ['derive'])
      const [pending] = await seed(catalog, 1)
      const thumb = keyOf()
      expect(
        await catalog.reserveDerivatives([
          { mediaId: id, name: 'thumb320', blobKey: thumb, mimeType: 'image/webp' },
          { mediaId: pending!, name: 'thumb320', blobKey: thumb, mimeType: 'image/webp' },
        ]),
      ).toEqual(['reserved', 'gone'])
      expect(await catalog.derivativesOf(id)).toMatchObject([{ mediaId: id, name: 'thumb320', blobKey: thumb, mimeType: 'image/webp', size: null }])
      // A reserved key is in use: no deletion may claim it.
      expect(await catalog.referencedBlobKeys([thumb])).toEqual([thumb])
      expect((await catalog.claimBlobDeletions([thumb], 'eraser', 60_000)).referenced).toEqual([thumb])
      const outcome = { status: 'done' as const, error: null, facts: { width: 1600, height: 1200, placeholder: 'abc', waveform: [1, 50, 100] }, ready: [{ name: 'thumb320', blobKey: thumb, size: 4321 }] }
      expect(await catalog.recordDerived(id, outcome)).toBe(true)
      expect(await catalog.recordDerived(pending!, outcome)).toBe(false)
      expect((await catalog.derivativesOf(id))[0]!.size).toBe(4321)
      expect(await catalog.get(id)).toMatchObject({ width: 1600, height: 1200, durationMs: null, placeholder: 'abc', waveform: [1, 50, 100], derivatives: { status: 'done', error: null } })
      expect(await catalog.markDeriving([id, pending!], 'failed', 'no ffmpeg')).toBe(1)
      expect((await catalog.get(id))!.derivatives).toEqual({ status: 'failed', error: 'no ffmpeg' })
    })

    it('a reservation waits out a deletion of its key; erasure takes derivatives with the media', async () => {
      const catalog = ctx.catalog()
      const other = await ctx.open()
      const id = await storedMedia(catalog)
      const key = keyOf()
      const claim = await other.claimBlobDeletions([key], 'eraser', 60_000)
      expect(claim.claimed).toEqual([key])
      expect(await catalog.reserveDerivatives([{ mediaId: id, name: 'thumb96', blobKey: key, mimeType: 'image/webp' }])).toEqual(['deleting'])
      await other.endBlobDeletions('eraser', [key], [])
      expect(await catalog.reserveDerivatives([{ mediaId: id, name: 'thumb96', blobKey: key, mimeType: 'image/webp' }])).toEqual(['reserved'])
      expect(await catalog.derivedBlobKeys([id])).toEqual([key])
      await catalog.markDeleted([id])
      expect(await catalog.get(id)).toMatchObject({ placeholder: null, waveform: null })
      // Tombstoned: the key is no longer in use, and the unfinished erasure holds it.
      expect(await catalog.referencedBlobKeys([key])).toEqual([])
      expect(await catalog.tombstoneBlobKeys(100)).toContain(key)
      const erase = await other.claimBlobDeletions([key], 'eraser-2', 60_000)
      expect(erase.claimed).toEqual([key])
      await other.endBlobDeletions('eraser-2', [key], [])
      expect(await catalog.derivativesOf(id)).toEqual([])
      expect(await catalog.tombstoneBlobKeys(100)).not.toContain(key)
    })
    it('derivative rows travel with migrate-data: exported, compared by version, imported', async () => {
      const catalog = ctx.catalog()
      const id = await storedMedia(catalog)
      const key = keyOf()
      await catalog.reserveDerivatives([{ mediaId: id, name: 'thumb320', blobKey: key, mimeType: 'image/webp' }])
      await catalog.recordDerived(id, { status: 'done', error: null, facts: {}, ready: [{ name: 'thumb320', blobKey: key, size: 99 }] })
      const rows = await catalog.exportRows('derivatives', null, 10)
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ id: `${id}.thumb320`, media_id: id, name: 'thumb320', blob_key: key, mime_type: 'image/webp' })
      expect(Number(rows[0]!.size)).toBe(99)
      expect(await catalog.compareRows('derivatives', rows)).toEqual({ [`${id}.thumb320`]: 'same' })
      const newer = { ...rows[0]!, size: 100, updated_at: Number(rows[0]!.updated_at) + 1000 }
      expect(await catalog.compareRows('derivatives', [newer])).toEqual({ [`${id}.thumb320`]: 'update' })
      expect(await catalog.importRows('derivatives', [newer])).toBe(1)
      expect((await catalog.derivativesOf(id))[0]!.size).toBe(100)
      const other = { ...newer, id: 'med_00000000000000000000000000.thumb96', media_id: 'med_00000000000000000000000000', name: 'thumb96' }
      expect(await catalog.compareRows('derivatives', [other])).toEqual({ [other.id]: 'insert' })
    })
  })
}
