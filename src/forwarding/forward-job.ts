/**
 * Forwarding as a kind of job: a row of the outbox is the job. A run builds the payload from the
 * recorded body and the media's current state, posts it, and turns the answer into sent, retry
 * later (backoff) or failed once the budget is spent. The catalog hands a forward out only when
 * no earlier forward of its conversation is still pending, so forwards run concurrently only
 * across conversations. The JobEngine does the rest.
 */
import type { ForwardRecord, ForwardSettlement, Outbox, WebhookLog } from '../catalog/catalog.js'
import { type BackoffPolicy, backoffDelay } from '../jobs/backoff.js'
import type { JobKind } from '../jobs/job-engine.js'
import { buildForwardBody, forwardedMedia } from './forward-body.js'
import type { DeliveryResult } from './post-forward.js'
import { addTraceLink } from '../tracing/index.js'

/** Forwards are retried a number of times (MEDIAGATE_FORWARD_MAX_ATTEMPTS), backing off up to 10 minutes. */
export interface ForwardRetryPolicy extends BackoffPolicy {
  maxAttempts: number
}

export const DEFAULT_FORWARD_RETRY: ForwardRetryPolicy = { maxAttempts: 20, baseDelayMs: 1000, maxDelayMs: 10 * 60 * 1000 }

export interface ForwardJobOptions {
  catalog: Outbox & Pick<WebhookLog, 'getWebhookBody' | 'webhookMedia'>
  /** Delivers one payload; `ForwardPoster.post` in production. */
  deliver: (body: Buffer, meta: { forwardId: string; webhookId: string; attempt: number }) => Promise<DeliveryResult>
  /** A signed content link for a media id, or null when links are not available. */
  contentUrl: (mediaId: string) => string | null
  retry: ForwardRetryPolicy
}

export function forwardJobs(options: ForwardJobOptions): JobKind<ForwardRecord, ForwardSettlement> {
  const { catalog, retry } = options
  const afterFailure = (forward: ForwardRecord, reason: string, retryable: boolean): ForwardSettlement => {
    if (!retryable || forward.attempts >= retry.maxAttempts) {
      return { status: 'failed', error: retryable ? `${reason} (gave up after ${forward.attempts} attempts)` : reason }
    }
    return { status: 'retry', error: reason, nextAttemptAt: new Date(Date.now() + backoffDelay(forward.attempts, retry)) }
  }
  return {
    name: 'forward',
    id: (forward) => forward.id,
    logFields: (forward) => ({ forwardId: forward.id, webhookId: forward.webhookId, attempt: forward.attempts }),
    trace: (forward) => ({ attributes: { 'mediagate.forward_id': forward.id, 'mediagate.webhook_id': forward.webhookId, 'mediagate.attempt': forward.attempts } }),
    claim: (claim) => catalog.claimForwards(claim),
    async run(forward) {
      const [raw, media] = await Promise.all([catalog.getWebhookBody(forward.webhookId), catalog.webhookMedia(forward.webhookId)])
      if (!raw) return afterFailure(forward, 'the webhook body is gone (retention); nothing to forward', false)
      addTraceLink(media.find((m) => m.traceParent)?.traceParent)
      const body = buildForwardBody(raw, { webhook_id: forward.webhookId, media: media.map((m) => forwardedMedia(m, options.contentUrl(m.id))) })
      const result = await options.deliver(body, { forwardId: forward.id, webhookId: forward.webhookId, attempt: forward.attempts })
      return result.ok ? { status: 'sent' } : afterFailure(forward, result.reason, true)
    },
    afterError: (forward, error) => afterFailure(forward, error.message, true),
    handBack: (forward, error) => afterFailure(forward, error.message, true),
    // Nothing cheap says when the next forward is due (its conversation's order, its media), so
    // the engine remembers the retries it settled instead.
    retryAt: (settlement) => (settlement.status === 'retry' ? settlement.nextAttemptAt : undefined),
    settle: (forward, owner, settlement) => catalog.settleForward(forward.id, owner, settlement),
    settled(_forward, settlement, log) {
      if (settlement.status === 'sent') log.info('webhook forwarded')
      else if (settlement.status === 'retry') log.warn({ nextAttemptAt: settlement.nextAttemptAt }, `forward will be retried: ${settlement.error}`)
      else log.error(`forward failed: ${settlement.error}`)
    },
  }
}
