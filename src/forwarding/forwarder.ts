/**
 * The forwarder: drains the outbox in worker processes. It claims due forwards with a lease
 * (several processes may run one; the catalog hands each forward to one of them, and never two
 * of the same conversation at once), builds the payload from the recorded body and the media's
 * current state, posts it, and settles: sent, retry later (backoff), or failed once the budget
 * is spent. States: created → running → stopping → stopped.
 */
import { randomUUID } from 'node:crypto'
import type { Catalog, ForwardRecord, ForwardSettlement } from '../catalog/catalog.js'
import { MediagateError, toMediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { buildForwardBody, forwardedMedia } from './forward-body.js'
import { DEFAULT_FORWARD_RETRY, forwardDelayMs, type ForwardRetryPolicy } from './forward-retry.js'
import type { DeliveryResult } from './post-forward.js'
import { WakeableSleep } from '../util/wakeable-sleep.js'

export interface ForwarderOptions {
  catalog: Catalog
  logger: Logger
  /** Delivers one payload; `ForwardPoster.post` in production. */
  deliver: (body: Buffer, meta: { forwardId: string; webhookId: string; attempt: number }) => Promise<DeliveryResult>
  /** A signed content link for a media id, or null when links are not available. */
  contentUrl: (mediaId: string) => string | null
  retry?: Partial<ForwardRetryPolicy>
  /** Forwards posted at once (each of a different conversation). Default 8. */
  concurrency?: number
  /** Longer than one delivery may take. Default 60 s. */
  leaseMs?: number
  /** How often to look for due forwards when nothing wakes us. Default 1000 ms. */
  pollMs?: number
  owner?: string
}

type State = 'created' | 'running' | 'stopping' | 'stopped'

export class Forwarder {
  readonly owner: string
  private state: State = 'created'
  private readonly retry: ForwardRetryPolicy
  private readonly idle = new WakeableSleep()
  private loopDone: Promise<void> | undefined

  constructor(private readonly options: ForwarderOptions) {
    this.owner = options.owner ?? `forwarder-${process.pid}-${randomUUID().slice(0, 8)}`
    this.retry = { ...DEFAULT_FORWARD_RETRY, ...options.retry }
  }

  start(): void {
    if (this.state !== 'created') throw new MediagateError('conflict', `forwarder is ${this.state}`)
    this.state = 'running'
    this.loopDone = this.loop()
  }

  /** A forward may have become due (a webhook recorded, a media settled, a retry requested). */
  wake(): void {
    this.idle.wake()
  }

  /** Stops claiming and waits for the deliveries in flight to settle. */
  async stop(): Promise<void> {
    if (this.state === 'created' || this.state === 'stopped') {
      this.state = 'stopped'
      return
    }
    this.state = 'stopping'
    this.wake()
    await this.loopDone
    this.state = 'stopped'
  }

  private async loop(): Promise<void> {
    const { catalog, logger } = this.options
    const limit = this.options.concurrency ?? 8
    let errorDelay = 0
    while (this.state === 'running') {
      this.idle.takeWake()
      let claimed: ForwardRecord[] = []
      try {
        claimed = await catalog.claimForwards({ owner: this.owner, limit, leaseMs: this.options.leaseMs ?? 60_000 })
        errorDelay = 0
      } catch (err) {
        errorDelay = Math.min(30_000, Math.max(500, errorDelay * 2))
        logger.error({ err: toMediagateError(err, 'catalog') }, `claiming forwards failed; retrying in ${errorDelay} ms`)
      }
      // One batch at a time: a conversation's next forward is due only once this one settles.
      await Promise.allSettled(claimed.map((forward) => this.run(forward)))
      if (this.state !== 'running') break
      if (claimed.length > 0) continue
      // Returns at once when woken during this round.
      await this.idle.sleep(errorDelay || (this.options.pollMs ?? 1000))
    }
  }


  private async run(forward: ForwardRecord): Promise<void> {
    const log = this.options.logger.child({ forwardId: forward.id, webhookId: forward.webhookId, attempt: forward.attempts })
    let settlement: ForwardSettlement
    try {
      const body = await this.payload(forward)
      const result = body ? await this.options.deliver(body, { forwardId: forward.id, webhookId: forward.webhookId, attempt: forward.attempts }) : { ok: false as const, reason: 'the webhook body is gone (retention); nothing to forward' }
      settlement = result.ok ? { status: 'sent' } : this.afterFailure(forward, result.reason, body !== undefined)
    } catch (err) {
      settlement = this.afterFailure(forward, toMediagateError(err).message, true)
    }
    try {
      const applied = await this.options.catalog.settleForward(forward.id, this.owner, settlement)
      if (!applied) log.warn('forward lease lost before settling; another forwarder owns it now')
      else if (settlement.status === 'sent') log.info('webhook forwarded')
      else if (settlement.status === 'retry') log.warn({ nextAttemptAt: settlement.nextAttemptAt }, `forward will be retried: ${settlement.error}`)
      else log.error(`forward failed: ${settlement.error}`)
    } catch (err) {
      // The lease expires and the forward is claimed again: at-least-once delivery.
      log.error({ err: toMediagateError(err, 'catalog') }, 'settling a forward failed')
    }
  }

  private async payload(forward: ForwardRecord): Promise<Buffer | undefined> {
    const { catalog, contentUrl } = this.options
    const [raw, media] = await Promise.all([catalog.getWebhookBody(forward.webhookId), catalog.webhookMedia(forward.webhookId)])
    if (!raw) return undefined
    return buildForwardBody(raw, { webhook_id: forward.webhookId, media: media.map((m) => forwardedMedia(m, contentUrl(m.id))) })
  }

  private afterFailure(forward: ForwardRecord, reason: string, retryable: boolean): ForwardSettlement {
    if (!retryable || forward.attempts >= this.retry.maxAttempts) {
      return { status: 'failed', error: retryable ? `${reason} (gave up after ${forward.attempts} attempts)` : reason }
    }
    return { status: 'retry', error: reason, nextAttemptAt: new Date(Date.now() + forwardDelayMs(forward.attempts, this.retry)) }
  }
}
