/**
 * Retry or delete many media at once (`POST /v1/media/batch`), each exactly as its one-media route
 * does it: a retry follows retry-rules.ts and the catalog's `requeue`; a delete goes through the
 * eraser (tombstones, blobs and derived blobs, handles and their deletion at Meta).
 *
 * A filter is resolved to ids before anything is done, newest first, reading at most
 * `MAX_FILTER_MATCH + 1` records: the count the caller confirmed (`expected`) is compared with
 * what was read, so new media arriving during the call are never acted on unseen, and a filter
 * that matches more than the cap acts on its newest `MAX_FILTER_MATCH` and says `capped`.
 */
import type { MediaQueries, MediaSelection } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import type { MediaRecord } from '../media/record.js'
import type { Eraser } from '../retention/eraser.js'
import type { BatchAction, BatchRequest } from './batch-request.js'
import { retryRefusal } from '../media/retry-rules.js'

/** Records one call acts on when given a filter. */
export const MAX_FILTER_MATCH = 10_000
/** Ids per catalog call: one page, one erasure transaction. */
const CHUNK = 500

export interface BatchDeps {
  catalog: Pick<MediaQueries, 'list' | 'requeue'>
  eraser: Pick<Eraser, 'erase'>
}

export interface BatchOutcome {
  action: BatchAction
  /** Records found: the named ids that exist, or what the filter matched (`MAX_FILTER_MATCH + 1` when capped). */
  matched: number
  /** Records retried or erased now. */
  done: number
  skipped: { id: string; reason: string }[]
  /** The filter matched more than `MAX_FILTER_MATCH`: only the newest of them were acted on. */
  capped: boolean
}

/** The filter matched another number than the confirmation showed: nothing was done. */
export class CountChangedError extends MediagateError {
  constructor(
    readonly count: number,
    readonly capped: boolean,
    expected: number,
  ) {
    super('count_changed', `the filter now matches ${capped ? `more than ${MAX_FILTER_MATCH}` : count} media, not the ${expected} confirmed; nothing was done: count again and confirm`)
  }
}

export async function runBatch(request: BatchRequest, deps: BatchDeps): Promise<BatchOutcome> {
  const skipped: BatchOutcome['skipped'] = []
  let targets: MediaRecord[]
  let matched: number
  let capped = false
  if ('ids' in request) {
    targets = await recordsOf(deps.catalog, request.ids)
    const found = new Set(targets.map((m) => m.id))
    for (const id of request.ids) if (!found.has(id)) skipped.push({ id, reason: `no media ${id}` })
    matched = targets.length
  } else {
    targets = await matching(deps.catalog, request.filter, MAX_FILTER_MATCH + 1)
    matched = targets.length
    capped = matched > MAX_FILTER_MATCH
    if (matched !== request.expected) throw new CountChangedError(matched, capped, request.expected)
    targets = targets.slice(0, MAX_FILTER_MATCH)
  }
  const done = request.action === 'retry' ? await retry(targets, deps, skipped) : await erase(targets, deps, skipped)
  return { action: request.action, matched, done, skipped, capped }
}

async function retry(targets: MediaRecord[], deps: BatchDeps, skipped: BatchOutcome['skipped']): Promise<number> {
  const eligible: string[] = []
  for (const media of targets) {
    const refusal = retryRefusal(media)
    if (refusal === undefined) eligible.push(media.id)
    else skipped.push({ id: media.id, reason: refusal })
  }
  if (eligible.length === 0) return 0
  const done = await deps.catalog.requeue({ ids: eligible })
  if (done < eligible.length) {
    // Another request settled, erased or retried some of them between the read and the update.
    for (const media of await recordsOf(deps.catalog, eligible)) {
      if (media.status !== 'pending') skipped.push({ id: media.id, reason: `media ${media.id} changed meanwhile: it is ${media.status}` })
    }
  }
  return done
}

async function erase(targets: MediaRecord[], deps: BatchDeps, skipped: BatchOutcome['skipped']): Promise<number> {
  const live: string[] = []
  for (const media of targets) {
    if (media.status === 'deleted') skipped.push({ id: media.id, reason: `media ${media.id} is deleted already` })
    else live.push(media.id)
  }
  let done = 0
  for (let i = 0; i < live.length; i += CHUNK) {
    const chunk = new Set(live.slice(i, i + CHUNK))
    done += (await deps.eraser.erase([...chunk])).filter((t) => chunk.has(t.id)).length
  }
  return done
}

async function recordsOf(catalog: BatchDeps['catalog'], ids: string[]): Promise<MediaRecord[]> {
  const records: MediaRecord[] = []
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK)
    records.push(...(await catalog.list({ ids: chunk }, { limit: chunk.length })).data)
  }
  return records
}

/** Newest first, up to `atMost`, by keyset pages. */
async function matching(catalog: BatchDeps['catalog'], filter: MediaSelection, atMost: number): Promise<MediaRecord[]> {
  const records: MediaRecord[] = []
  let cursor: string | undefined
  while (records.length < atMost) {
    const page = await catalog.list(filter, { limit: Math.min(1000, atMost - records.length), ...(cursor ? { cursor } : {}) })
    records.push(...page.data)
    if (!page.nextCursor) break
    cursor = page.nextCursor
  }
  return records
}
