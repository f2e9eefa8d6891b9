/**
 * The dashboard header's figures computed from a real SQLite catalog: counts, activity of the
 * last hour, capture rate, and the oldest pending record.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Catalog } from '../../src/catalog/catalog.js'
import { openCatalog } from '../../src/catalog/open-catalog.js'
import { createLogger } from '../../src/logging/logger.js'
import type { NewMedia } from '../../src/media/record.js'
import { collectQueueStats } from '../../src/metrics/queue-stats.js'
import { newMedia } from '../catalog/fixtures.js'

const opened: { catalog: Catalog; dir: string }[] = []
afterEach(async () => {
  for (const { catalog, dir } of opened.splice(0)) {
    await catalog.close()
    await rm(dir, { recursive: true, force: true })
  }
})

async function freshCatalog(): Promise<Catalog> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-stats-'))
  const catalog = await openCatalog(`sqlite:${path.join(dir, 'catalog.db')}`, { logger: createLogger('silent') })
  await catalog.migrate()
  opened.push({ catalog, dir })
  return catalog
}

let seq = 0
function media(messageId: string, attachmentIndex = 0): NewMedia {
  return newMedia({
    platform: 'messenger',
    accountId: 'page-1',
    messageId,
    attachmentIndex,
    senderId: 'user-1',
    sourceMediaId: null,
    sourceUrl: 'http://127.0.0.1:9/cdn/x.jpg',
  })
}

async function record(catalog: Catalog, receivedAt: Date, count: number) {
  const mid = `m.${++seq}.${receivedAt.getTime()}`
  const list = Array.from({ length: count }, (_, i) => media(mid, i))
  const [result] = await catalog.recordWebhooks([{ object: 'page', body: Buffer.from(`{"n":${seq}}`), receivedAt, media: list }])
  return result!.created
}

describe('queue stats', () => {
  it('reports the oldest pending media, and none on an empty queue', async () => {
    const catalog = await freshCatalog()
    expect((await collectQueueStats(catalog)).oldestPendingAt).toBeNull()
    const threeDaysAgo = new Date(Date.now() - 3 * 24 * 3600_000 - 12_345)
    await record(catalog, new Date(Date.now() - 1000), 3)
    await record(catalog, threeDaysAgo, 1)
    await record(catalog, new Date(Date.now() - 2 * 24 * 3600_000), 2)
    expect((await collectQueueStats(catalog)).oldestPendingAt?.getTime()).toBe(threeDaysAgo.getTime())
  })

  it('counts stores and failures of the last hour and the capture rate', async () => {
    const catalog = await freshCatalog()
    const receivedAt = new Date(Date.now() - 60_000)
    await record(catalog, receivedAt, 5)
    const owner = 'stats-test'
    const claimed = await catalog.claim({ owner, limit: 10, leaseMs: 60_000, crashLimit: 8 })
    expect(claimed).toHaveLength(5)
    const stored = (i: number) => ({ status: 'stored' as const, sha256: `${i}`.padStart(64, '0'), size: 10, blobKey: `k${i}`, sniffedMime: 'image/jpeg', mimeType: 'image/jpeg' })
    for (const [i, m] of claimed.slice(0, 3).entries()) expect(await catalog.settle(m.id, owner, stored(i))).toBe(true)
    expect(await catalog.settle(claimed[3]!.id, owner, { status: 'failed', error: { code: 'source_expired', message: 'gone' } })).toBe(true)
    expect(await catalog.settle(claimed[4]!.id, owner, { status: 'retry', error: { code: 'network', message: 'reset' }, nextAttemptAt: new Date(Date.now() + 60_000) })).toBe(true)

    const stats = await collectQueueStats(catalog)
    expect(stats.lastHour).toEqual({ stored: 3, failed: 1, failedByCode: [{ code: 'source_expired', count: 1 }] })
    expect(stats.captureRatePerMin).toBe(0.6)
    expect(stats.oldestPendingAt?.getTime()).toBe(receivedAt.getTime())
    const count = (status: string) => stats.counts.find((c) => c.platform === 'messenger' && c.status === status)?.count
    expect([count('stored'), count('failed'), count('pending')]).toEqual([3, 1, 1])

    // An hour later nothing counts as recent any more.
    const later = await collectQueueStats(catalog, new Date(Date.now() + 2 * 3600_000))
    expect(later.lastHour.stored).toBe(0)
    expect(later.captureRatePerMin).toBe(0)
  })
})
