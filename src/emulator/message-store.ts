/**
 * Messenger and Instagram messages the emulator sent, so Graph's Message node can answer for
 * them: `GET /{message-id}?fields=attachments` (and the `/attachments` edge) lists the
 * attachments with freshly signed URLs, in the order of the webhook. Instagram answers only for
 * the 20 most recent messages of a conversation; older ones get the error Meta gives for a
 * deleted message [M16].
 */
import { cdnKindOf } from './cdn-routes.js'
import type { EmulatorState, MessageEntry } from './emulator-state.js'
import type { UrlSigner } from './url-signer.js'

/** How many messages of an Instagram conversation Graph still answers for [M16]. */
export const INSTAGRAM_QUERYABLE_MESSAGES = 20

export interface EmulatedMessage {
  mid: string
  platform: 'messenger' | 'instagram'
  /** Page id or Instagram account id. */
  accountId: string
  /** PSID or IGSID of the other party. */
  userId: string
  /** Media id per attachment position; null for an attachment without media (a fallback, a booking). */
  attachments: (string | null)[]
}

/** What `remember` reads of a messaging webhook. */
interface MessagingLike {
  object?: unknown
  entry?: { id?: unknown; messaging?: { sender?: { id?: unknown }; recipient?: { id?: unknown }; message?: { mid?: unknown; is_echo?: unknown; attachments?: unknown } }[] }[]
}

export class MessageStore {
  private readonly messages = new Map<string, EmulatedMessage>()
  /** Per conversation (platform, account, user): mids in the order they were sent. */
  private readonly conversations = new Map<string, string[]>()

  constructor(
    private readonly signer: UrlSigner,
    private readonly state?: EmulatorState,
  ) {}

  /** Puts back the messages a state directory remembered, in the order they were sent. */
  restore(entries: readonly MessageEntry[]): void {
    for (const { t: _t, ...message } of entries) this.keep(message)
  }

  /** Records every message with attachments in a Messenger (`page`) or Instagram webhook; other payloads are ignored. */
  remember(payload: unknown): void {
    const p = payload as MessagingLike
    if (p?.object !== 'page' && p?.object !== 'instagram') return
    const platform = p.object === 'page' ? 'messenger' : 'instagram'
    for (const entry of p.entry ?? []) {
      const accountId = String(entry.id ?? '')
      for (const event of entry.messaging ?? []) {
        const message = event.message
        if (typeof message?.mid !== 'string' || !Array.isArray(message.attachments)) continue
        const userId = String((message.is_echo === true ? event.recipient?.id : event.sender?.id) ?? '')
        const attachments = (message.attachments as { payload?: { url?: unknown } }[]).map((a) => this.mediaIdOf(a?.payload?.url))
        this.add({ mid: message.mid, platform, accountId, userId, attachments })
      }
    }
  }

  add(message: EmulatedMessage): void {
    if (this.messages.has(message.mid)) return
    this.state?.append({ t: 'message', ...message })
    this.keep(message)
  }

  private keep(message: EmulatedMessage): void {
    if (this.messages.has(message.mid)) return
    this.messages.set(message.mid, message)
    const key = `${message.platform}|${message.accountId}|${message.userId}`
    const list = this.conversations.get(key) ?? []
    list.push(message.mid)
    this.conversations.set(key, list)
  }

  get(mid: string): EmulatedMessage | undefined {
    return this.messages.get(mid)
  }

  /** False for an Instagram message older than the 20 most recent of its conversation. */
  queryable(message: EmulatedMessage): boolean {
    if (message.platform !== 'instagram') return true
    const list = this.conversations.get(`${message.platform}|${message.accountId}|${message.userId}`) ?? []
    return list.slice(-INSTAGRAM_QUERYABLE_MESSAGES).includes(message.mid)
  }

  private mediaIdOf(url: unknown): string | null {
    if (typeof url !== 'string') return null
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return null
    }
    const kind = cdnKindOf(parsed.pathname)
    const verified = kind === 'messenger' ? this.signer.verifyMessenger(parsed.pathname, parsed.searchParams) : kind === 'instagram' ? this.signer.verifyInstagram(parsed.searchParams) : undefined
    return verified?.mediaId ?? null
  }
}
