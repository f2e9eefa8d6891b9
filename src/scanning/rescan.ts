/**
 * Rescanning stored media (`mediagate scan`): new signatures find old malware. Each blob is
 * scanned once however many records share it; infected ones are quarantined (the records turn
 * `failed`/`infected`) and the forwards of their webhooks go out again, so the user's app hears
 * which media were infected. A release (`--release`) puts back a false positive after review.
 */
import type { BlobStore } from '../blobs/blob-store.js'
import type { MediaQueries, ScanVerdicts } from '../catalog/catalog.js'
import { MediagateError, toMediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import { quarantineInfected } from './quarantine.js'
import type { Scanner } from './scanner.js'

export interface RescanDeps {
  catalog: Pick<MediaQueries, 'list' | 'get'> & ScanVerdicts
  blobs: BlobStore
  scanner: Scanner
}

export interface RescanEvents {
  /** How many blobs will be scanned (known once the stored records were listed). */
  total?(blobs: number): void
  /** One blob scanned: what it was, and the records it turned infected. */
  scanned?(outcome: BlobOutcome): void
}

export interface BlobOutcome {
  blobKey: string
  result: 'clean' | 'infected' | 'skipped' | 'too_large' | 'missing'
  signature?: string | null
  /** Records that turned failed/infected. */
  infected: MediaRecord[]
}

export interface RescanReport {
  media: number
  blobs: number
  clean: number
  infected: MediaRecord[]
  skipped: number
  tooLarge: number
  missing: number
  /** Forwards queued again for the webhooks of infected media. */
  forwards: number
}

const PAGE = 500

/**
 * Rescans the blobs of the media stored now that were received since `since` (all without it).
 * A scanner outage ends the run with its error (nothing is changed for the blobs not reached).
 */
export async function rescanStored(deps: RescanDeps, options: { since?: Date } = {}, events: RescanEvents = {}): Promise<RescanReport> {
  const sizes = new Map<string, number>()
  let media = 0
  for (let cursor: string | undefined; ; ) {
    const page = await deps.catalog.list({ status: 'stored', ...(options.since ? { receivedAfter: options.since } : {}) }, { limit: PAGE, ...(cursor ? { cursor } : {}) })
    for (const m of page.data) {
      if (m.blobKey === null || m.size === null) continue
      media += 1
      sizes.set(m.blobKey, m.size)
    }
    if (!page.nextCursor) break
    cursor = page.nextCursor
  }
  events.total?.(sizes.size)
  const report: RescanReport = { media, blobs: sizes.size, clean: 0, infected: [], skipped: 0, tooLarge: 0, missing: 0, forwards: 0 }
  deps.scanner.forgetEngine()
  for (const [blobKey, size] of sizes) {
    const outcome = await rescanBlob(deps, blobKey, size)
    if (outcome.result === 'clean') report.clean += 1
    else if (outcome.result === 'skipped') report.skipped += 1
    else if (outcome.result === 'too_large') report.tooLarge += 1
    else if (outcome.result === 'missing') report.missing += 1
    report.infected.push(...outcome.infected)
    events.scanned?.(outcome)
  }
  const webhooks = report.infected.map((m) => m.webhookId).filter((id): id is string => id !== null)
  report.forwards = await deps.catalog.resendForwards(webhooks)
  return report
}

async function rescanBlob(deps: RescanDeps, blobKey: string, size: number): Promise<BlobOutcome> {
  try {
    const scan = await deps.scanner.scanBlob(deps.blobs, blobKey, size)
    if (scan.status !== 'infected') {
      await deps.catalog.noteScan(blobKey, scan)
      return { blobKey, result: scan.status === 'skipped' ? 'skipped' : 'clean', infected: [] }
    }
    const quarantined = await quarantineInfected(deps, blobKey, scan)
    return { blobKey, result: 'infected', signature: scan.signature, infected: quarantined.records }
  } catch (err) {
    const error = toMediagateError(err)
    // Reported, not changed: `mediagate verify` is the tool for missing blobs.
    if (error.code === 'not_found') return { blobKey, result: 'missing', infected: [] }
    if (error.code === 'too_large_to_scan') return { blobKey, result: 'too_large', infected: [] }
    throw error
  }
}

/**
 * Puts an infected media back after review (a false positive): its bytes are copied from
 * quarantine to their content key, verified against the record's sha256 and size, the record
 * becomes `stored` (its scan marked released, the signature kept), and the forward of its
 * webhook goes out again. The quarantined copy stays while other records still hold it.
 */
export async function releaseInfected(deps: Omit<RescanDeps, 'scanner'> & { discardBlobs: (keys: string[]) => Promise<unknown> }, id: string): Promise<MediaRecord> {
  const media = await deps.catalog.get(id)
  if (!media) throw new MediagateError('not_found', `no media with id ${id}`)
  if (media.status !== 'failed' || media.error?.code !== 'infected') throw new MediagateError('conflict', `media ${id} is ${media.status}${media.error ? ` (${media.error.code})` : ''}, not infected: nothing to release`)
  if (media.blobKey === null || media.sha256 === null || media.size === null) {
    throw new MediagateError('conflict', `media ${id} has no quarantined bytes to put back (they were moved by another scan first); retry it with \`mediagate retry\` after releasing that one`)
  }
  const quarantineKey = media.blobKey
  const put = await deps.blobs.put(await deps.blobs.read(quarantineKey), { expectedSha256: media.sha256, expectedSize: media.size, ...(media.mimeType ? { contentType: media.mimeType } : {}) })
  const released = await deps.catalog.releaseInfected(id, put.key)
  if (!released) throw new MediagateError('conflict', `media ${id} changed while it was being released`)
  await deps.discardBlobs([quarantineKey])
  if (released.webhookId) await deps.catalog.resendForwards([released.webhookId])
  return released
}
