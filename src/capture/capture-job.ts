/**
 * Capture as a kind of job: the media record is the job. Claims lease due `pending` records, a
 * run is one capture attempt (capture-media.ts), and outcomes that finish together are settled
 * in one transaction (one fsync). The JobEngine does the rest.
 */
import type { MediaJobs, Settlement } from '../catalog/catalog.js'
import type { JobClaim, JobKind } from '../jobs/job-engine.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'
import { GroupCommit } from '../util/group-commit.js'
import { type CaptureRetryPolicy, decideAfterFailure } from './retry-policy.js'

/** One capture attempt; throws a MediagateError when it fails. */
export type CaptureFn = (media: MediaRecord, signal: AbortSignal) => Promise<Settlement>

export interface CaptureJobOptions {
  catalog: MediaJobs
  capture: CaptureFn
  retry: CaptureRetryPolicy
  /** Observes each applied outcome (metrics, forwarding). */
  onSettled?: (media: MediaRecord, settlement: Settlement) => void
  /**
   * Deletes blobs no live record uses (the eraser's `discard`). A capture whose settlement is
   * refused because its record was deleted meanwhile (an unsend a second after the message) has
   * already written its blob, and nothing else would ever collect it.
   */
  discardBlobs?: (keys: string[]) => Promise<unknown>
}

export function captureJobs(options: CaptureJobOptions): JobKind<MediaRecord, Settlement> {
  const { catalog, capture, retry } = options
  const settles = new GroupCommit<SettleItem, { applied: boolean; claimed: MediaRecord[] }>((items) => settleGroup(catalog, items))
  return {
    name: 'capture',
    id: (media) => media.id,
    logFields: (media) => ({ mediaId: media.id, platform: media.platform, attempt: media.attempts }),
    trace: (media) => ({
      attributes: { 'mediagate.media_id': media.id, 'mediagate.platform': media.platform, 'mediagate.message_id': media.messageId, 'mediagate.attempt': media.attempts },
      linkTo: media.traceParent,
    }),
    claim: (claim) => catalog.claim(claim),
    renew: (ids, owner, leaseMs) => catalog.renewLeases(ids, owner, leaseMs),
    nextDueAt: () => catalog.nextDueAt(),
    run: (media, signal) => capture(media, signal),
    afterError: (media, error) => decideAfterFailure(error, media, retry),
    handBack: (_media, error) => ({ status: 'retry', error: { code: error.code, message: error.message }, nextAttemptAt: new Date(), refundAttempt: true }),
    settle: async (media, owner, settlement) => (await settles.submit({ id: media.id, owner, settlement })).applied,
    settleAndClaim: (media, owner, settlement, claim) => settles.submit({ id: media.id, owner, settlement, claim }),
    settled(media, settlement, log) {
      logSettlement(log, settlement)
      options.onSettled?.(media, settlement)
    },
    async refused(_media, settlement, log) {
      const blobKey = blobOf(settlement)
      if (!blobKey || !options.discardBlobs) return
      log.info({ blobKey }, 'the record no longer waits for these bytes; deleting its blob unless another record uses it')
      await options.discardBlobs([blobKey])
    },
  }
}

interface SettleItem {
  id: string
  owner: string
  settlement: Settlement
  /** The engine refills slots with this settlement (JobKind `settleAndClaim`). */
  claim?: JobClaim
}

/**
 * One transaction for a group of settlements, with one claim for all the slots they refill; the
 * claimed jobs are shared out in order, each settlement getting at most what it asked for.
 */
async function settleGroup(catalog: MediaJobs, items: SettleItem[]): Promise<{ applied: boolean; claimed: MediaRecord[] }[]> {
  const settlements = items.map(({ id, owner, settlement }) => ({ id, owner, settlement }))
  const first = items.find((item) => item.claim)?.claim
  if (!first) return (await catalog.settleMany(settlements)).map((applied) => ({ applied, claimed: [] }))
  // One engine per capture kind: every claim in a group is its own (another owner's, if any, would wait for its engine's loop).
  const asks = items.map((item) => (item.claim?.owner === first.owner ? item.claim.limit : 0))
  const { applied, claimed } = await catalog.settleAndClaim(settlements, { ...first, limit: asks.reduce((a, b) => a + b, 0) })
  let next = 0
  return items.map((_, i) => {
    const share = claimed.slice(next, next + asks[i]!)
    next += share.length
    return { applied: applied[i]!, claimed: share }
  })
}

/** The blob a settlement would have made its record hold: stored bytes, bytes kept for a scan, quarantined bytes. */
function blobOf(s: Settlement): string | null | undefined {
  if (s.status === 'stored') return s.blobKey
  if (s.status === 'retry') return s.kept?.blobKey
  return s.blobKey
}

function logSettlement(log: Logger, s: Settlement): void {
  if (s.status === 'stored') log.info({ size: s.size, sha256: s.sha256 }, 'media stored')
  else if (s.status === 'retry') log.warn({ code: s.error.code, nextAttemptAt: s.nextAttemptAt }, `capture will be retried: ${s.error.message}`)
  else log.warn({ code: s.error.code }, `capture failed: ${s.error.message}`)
}
