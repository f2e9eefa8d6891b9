/**
 * Outbound media and the handle cache (migration 11): a posted media's record, and handle rows
 * that are also the lock of one upload: one claimant per key (also across catalogs on one
 * database, as processes), reuse within the margin, takeover of a dead upload or a handle near
 * expiry, and nothing cached from an abandoned upload.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { HandleKey } from '../../../src/catalog/catalog.js'
import type { NewMedia } from '../../../src/media/record.js'
import type { ConformanceContext, TestCatalog } from '../conformance.js'

const DAY = 24 * 3600_000

function outbound(): NewMedia {
  return {
    platform: 'whatsapp',
    accountId: '',
    messageId: '',
    attachmentIndex: 0,
    senderId: null,
    direction: 'outbound',
    kind: 'image',
    sourceType: 'upload',
    sourceMediaId: null,
    sourceUrl: null,
    sourceExpiresAt: null,
    declaredMime: 'image/png',
    declaredSha256: null,
    declaredSize: null,
    filename: 'a.png',
    caption: null,
    voice: null,
    animated: null,
    sentAt: null,
    error: null,
  }
}

function key(): HandleKey {
  return { sourceSha256: randomBytes(32).toString('hex'), variant: 'original', platform: 'whatsapp', accountId: '1234567890' }
}

function claim(catalog: TestCatalog, k: HandleKey, owner: string, o: { now?: Date; leaseMs?: number; marginMs?: number } = {}) {
  return catalog.claimHandle({ ...k, mediaId: 'med_x', owner, leaseMs: o.leaseMs ?? 60_000, marginMs: o.marginMs ?? DAY, ...(o.now ? { now: o.now } : {}) })
}

const uploaded = (handle: string, expiresAt: Date) => ({ handle, sha256: 'ab'.repeat(32), size: 10, mimeType: 'image/png', expiresAt })

export function handleTests(ctx: ConformanceContext): void {
  describe('outbound media and handles', () => {
    it('records outbound media as remote, outbound, with no source, each post its own id', async () => {
      const catalog = ctx.catalog()
      const a = await catalog.recordOutbound(outbound())
      const b = await catalog.recordOutbound(outbound())
      expect(a.id).not.toBe(b.id)
      expect(a).toMatchObject({ status: 'remote', direction: 'outbound', policy: 'lazy', webhookId: null, sourceMediaId: null, filename: 'a.png', messageId: `out_${a.id}` })
      const stored = await catalog.storeRemote(a.id, { status: 'stored', sha256: 'cd'.repeat(32), size: 3, blobKey: 'k', sniffedMime: 'image/png', mimeType: 'image/png' })
      expect(stored).toMatchObject({ status: 'stored', direction: 'outbound', sha256: 'cd'.repeat(32) })
    })

    it('a conversion for sending is completed on its reservation without touching the deriving status', async () => {
      const catalog = ctx.catalog()
      const a = await catalog.recordOutbound(outbound())
      await catalog.storeRemote(a.id, { status: 'stored', sha256: 'ef'.repeat(32), size: 3, blobKey: 'k', sniffedMime: 'image/png', mimeType: 'image/png' })
      const blobKey = `sha256/aa/bb/${'aa'.repeat(32)}`
      expect(await catalog.completeConversion(a.id, 'send-jpeg-5242880', blobKey, 42)).toBe(false)
      expect(await catalog.reserveDerivatives([{ mediaId: a.id, name: 'send-jpeg-5242880', blobKey, mimeType: 'image/jpeg' }])).toEqual(['reserved'])
      expect(await catalog.completeConversion(a.id, 'send-jpeg-5242880', blobKey, 42)).toBe(true)
      expect(await catalog.derivativesOf(a.id)).toEqual([expect.objectContaining({ name: 'send-jpeg-5242880', blobKey, size: 42, mimeType: 'image/jpeg' })])
      expect((await catalog.get(a.id))!.derivatives).toBeNull()
      expect(await catalog.derivedBlobKeys([a.id])).toEqual([blobKey])
    })

    it('erasure forgets the handles of bytes no live record holds and queues WhatsApp deletions at Meta', async () => {
      const catalog = ctx.catalog()
      const sha = randomBytes(32).toString('hex')
      const store = async () => {
        const r = await catalog.recordOutbound(outbound())
        await catalog.storeRemote(r.id, { status: 'stored', sha256: sha, size: 3, blobKey: `sha256/${sha}`, sniffedMime: null, mimeType: 'application/pdf' })
        return r.id
      }
      const [a, b] = [await store(), await store()]
      for (const platform of ['whatsapp', 'messenger'] as const) {
        const k = { sourceSha256: sha, variant: 'original', platform, accountId: '42' }
        expect(await claim(catalog, k, 'u')).toEqual({ status: 'claimed' })
        await catalog.completeHandle(k, 'u', uploaded(`${platform}-id`, new Date(Date.now() + 30 * DAY)))
      }
      // Another live record still holds the bytes: the handles stay.
      await catalog.markDeleted([a])
      expect(await catalog.handlesOf([sha])).toHaveLength(2)
      expect(await catalog.metaDeletionsOf(a)).toEqual([])
      await catalog.markDeleted([b])
      expect(await catalog.handlesOf([sha])).toEqual([])
      const deletions = await catalog.metaDeletionsOf(b)
      expect(deletions).toEqual([expect.objectContaining({ mediaId: b, platform: 'whatsapp', accountId: '42', handle: 'whatsapp-id' })])
      expect(await catalog.getTask('meta_delete', b)).toMatchObject({ kind: 'meta_delete', mediaId: b })
      await catalog.endMetaDeletion(deletions[0]!.id)
      expect(await catalog.metaDeletionsOf(b)).toEqual([])
    })

    it('one claimant per key: the others are busy until it completes, then all reuse its handle', async () => {
      const catalog = ctx.catalog()
      const other = await ctx.open()
      const k = key()
      const answers = await Promise.all([claim(catalog, k, 'a'), claim(other, k, 'b'), claim(catalog, k, 'c'), claim(other, k, 'd')])
      expect(answers.filter((a) => a.status === 'claimed')).toHaveLength(1)
      expect(answers.filter((a) => a.status === 'busy')).toHaveLength(3)
      const winner = ['a', 'b', 'c', 'd'][answers.findIndex((a) => a.status === 'claimed')]!
      const loser = winner === 'a' ? 'b' : 'a'
      expect(await catalog.completeHandle(k, loser, uploaded('nope', new Date(Date.now() + 30 * DAY)))).toBeUndefined()
      const done = await other.completeHandle(k, winner, uploaded('777', new Date(Date.now() + 30 * DAY)))
      expect(done).toMatchObject({ handle: '777', platform: 'whatsapp', accountId: '1234567890', mimeType: 'image/png', size: 10 })
      const again = await claim(catalog, k, 'e')
      expect(again).toMatchObject({ status: 'ready', handle: { handle: '777' } })
      expect(await catalog.handlesOf([k.sourceSha256])).toHaveLength(1)
      // Another account or platform is another key.
      expect(await claim(catalog, { ...k, accountId: '999' }, 'f')).toEqual({ status: 'claimed' })
      expect(await claim(catalog, { ...k, platform: 'messenger' }, 'g')).toEqual({ status: 'claimed' })
      expect(await catalog.handlesOf([k.sourceSha256])).toHaveLength(1)
    })

    it('the claimant renews its lease while it uploads; no one else can, and a lost claim is told so', async () => {
      const catalog = ctx.catalog()
      const k = key()
      expect(await claim(catalog, k, 'owner', { leaseMs: 200 })).toEqual({ status: 'claimed' })
      expect(await catalog.renewHandle(k, 'stranger', 60_000)).toBe(false)
      expect(await catalog.renewHandle(k, 'owner', 60_000)).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 300))
      // Past the first lease, but renewed: still busy for others.
      expect(await claim(catalog, k, 'late')).toMatchObject({ status: 'busy' })
      // Renewed for a moment only; once it ends, a takeover wins and the old owner's renewal fails.
      expect(await catalog.renewHandle(k, 'owner', 1)).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await claim(catalog, k, 'taker')).toEqual({ status: 'claimed' })
      expect(await catalog.renewHandle(k, 'owner', 60_000)).toBe(false)
      expect(await catalog.renewHandle(k, 'taker', 60_000)).toBe(true)
    })

    it('a handle within the margin of its expiry is taken over by one new upload', async () => {
      const catalog = ctx.catalog()
      const k = key()
      expect(await claim(catalog, k, 'a')).toEqual({ status: 'claimed' })
      await catalog.completeHandle(k, 'a', uploaded('old', new Date(Date.now() + 2 * DAY)))
      expect(await claim(catalog, k, 'b', { marginMs: DAY })).toMatchObject({ status: 'ready' })
      const [x, y] = await Promise.all([claim(catalog, k, 'c', { marginMs: 3 * DAY }), claim(catalog, k, 'd', { marginMs: 3 * DAY })])
      expect([x!.status, y!.status].sort()).toEqual(['busy', 'claimed'])
      const taker = x!.status === 'claimed' ? 'c' : 'd'
      await catalog.completeHandle(k, taker, uploaded('new', new Date(Date.now() + 30 * DAY)))
      expect(await claim(catalog, k, 'e', { marginMs: 3 * DAY })).toMatchObject({ status: 'ready', handle: { handle: 'new' } })
    })

    it('an upload whose lease ran out is taken over; an abandoned one leaves nothing cached', async () => {
      const catalog = ctx.catalog()
      const k = key()
      expect(await claim(catalog, k, 'a', { leaseMs: 1000 })).toEqual({ status: 'claimed' })
      const busy = await claim(catalog, k, 'b')
      expect(busy.status).toBe('busy')
      expect(await claim(catalog, k, 'b', { now: new Date(Date.now() + 5000) })).toEqual({ status: 'claimed' })
      // The first uploader lost its claim: it can neither complete nor drop the new one.
      expect(await catalog.completeHandle(k, 'a', uploaded('late', new Date(Date.now() + 30 * DAY)))).toBeUndefined()
      await catalog.abandonHandle(k, 'a')
      expect(await claim(catalog, k, 'c')).toMatchObject({ status: 'busy' })
      await catalog.abandonHandle(k, 'b')
      expect(await catalog.handlesOf([k.sourceSha256])).toEqual([])
      expect(await claim(catalog, k, 'c')).toEqual({ status: 'claimed' })
    })
  })
}
