/**
 * Intake turns a signed webhook body into durable media records. It knows nothing of HTTP, so
 * the route, `mediagate replay` and library users share it. The order matters: the signature is
 * checked over the raw bytes before anything is parsed, and the caller acknowledges Meta only
 * after `accept` resolves, i.e. after the records are committed.
 */
import { createHash } from 'node:crypto'
import type { IncomingWebhook, RecordedWebhook, WebhookLog } from '../catalog/catalog.js'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { MediaRecord } from '../media/record.js'
import { onArrival, type PolicyRule } from './arrival-rules.js'
import { verifySignature } from '../platforms/signature.js'
import { parseWebhook } from '../platforms/webhook/parse-webhook.js'
import type { Unsend } from '../platforms/webhook/types.js'
import { GroupCommit } from '../util/group-commit.js'
import { conversationKey } from '../forwarding/conversation-key.js'
import { stampTraceParent } from '../tracing/index.js'

export interface IntakeOptions {
  catalog: WebhookLog
  /** Meta app secrets; any of them may have signed the body (rotation). */
  appSecrets: readonly string[]
  logger: Logger
  /** The storage policy table (arrival-rules.ts); without one every media is `eager`. */
  policies?: readonly PolicyRule[]
  /** WhatsApp phone_number_ids on Meta's No-Storage option: their media must be captured within the hour. */
  noStorageNumbers?: ReadonlySet<string>
  /**
   * Messages their sender unsent (MEDIAGATE_HONOR_UNSEND): awaited after the webhook is
   * recorded, so a failure is answered with an error and Meta delivers the webhook again.
   */
  onUnsends?: (unsends: Unsend[]) => Promise<void>
  /**
   * MEDIAGATE_FORWARD_URL: queue every recorded webhook for the user's app in the same
   * transaction; `waitForMedia` holds it until its media settle (MEDIAGATE_FORWARD_WHEN=stored).
   */
  forward?: { waitForMedia: boolean }
}

export interface AcceptOptions {
  /** `X-Hub-Signature-256` as received. */
  signature: string | undefined
  /** Only `mediagate replay --skip-signature`: an operator re-feeding a body they already trust. */
  skipSignature?: boolean
  receivedAt?: Date
  /** The request's logger (it carries the request id); the intake's own otherwise. */
  logger?: Logger
}

export interface AcceptResult {
  object: string
  supported: boolean
  webhookId: string | null
  created: MediaRecord[]
  duplicates: number
}

export class Intake {
  private readonly commits: GroupCommit<IncomingWebhook, RecordedWebhook>

  constructor(private readonly options: IntakeOptions) {
    this.commits = new GroupCommit((batch) => options.catalog.recordWebhooks(batch))
  }

  /** Throws `unauthorized` (bad signature), `bad_request` (not JSON) or `catalog` (not durable). */
  async accept(rawBody: Buffer, opts: AcceptOptions): Promise<AcceptResult> {
    const logger = opts.logger ?? this.options.logger
    if (!opts.skipSignature && !verifySignature(rawBody, opts.signature, this.options.appSecrets)) {
      throw new MediagateError('unauthorized', opts.signature ? 'X-Hub-Signature-256 does not match the body' : 'X-Hub-Signature-256 is missing')
    }
    let payload: unknown
    try {
      payload = JSON.parse(rawBody.toString('utf8'))
    } catch (err) {
      throw new MediagateError('bad_request', 'the body is not valid JSON', { cause: err })
    }
    const receivedAt = opts.receivedAt ?? new Date()
    const parsed = parseWebhook(payload, { receivedAt })
    for (const problem of parsed.problems) logger.warn({ object: parsed.object }, `webhook: ${problem}`)
    if (!parsed.supported) {
      logger.info({ object: parsed.object }, 'webhook for an object mediagate does not handle; acknowledged, nothing recorded')
      return { object: parsed.object, supported: false, webhookId: null, created: [], duplicates: 0 }
    }
    const { policies = [], noStorageNumbers = NONE } = this.options
    const media = stampTraceParent(parsed.media.map((m) => onArrival(m, policies, noStorageNumbers, receivedAt)))
    const forward = this.options.forward
    const recorded = await this.commits.submit({
      object: parsed.object,
      body: rawBody,
      receivedAt,
      media,
      ...(forward ? { forward: { conversationKey: conversationKey(payload, parsed.object), waitForMedia: forward.waitForMedia } } : {}),
    })
    if (parsed.unsends.length > 0 && this.options.onUnsends) await this.options.onUnsends(parsed.unsends)
    // Hashing the body for a line nobody reads costs more than the rest of this log call.
    if (logger.isLevelEnabled('debug')) {
      logger.debug(
        { webhookId: recorded.webhookId, created: recorded.created.length, duplicates: recorded.duplicates, sha: shortHash(rawBody) },
        'webhook recorded',
      )
    }
    return { object: parsed.object, supported: true, webhookId: recorded.webhookId, created: recorded.created, duplicates: recorded.duplicates }
  }
}

const NONE: ReadonlySet<string> = new Set()

function shortHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 12)
}
