/**
 * The state of one `parseWebhook` call: what it found, the notes on what it skipped, and a work
 * budget. The budget is what keeps a hostile body (a few MB of tiny array items) from costing
 * more than a legitimate one: Meta batches at most 1000 updates per delivery.
 */
import type { NewMedia } from '../../media/record.js'
import type { Unsend } from './types.js'

/**
 * Entries, changes, messages, events and attachments one payload may make us look at; a full
 * batch of 1000 updates with several attachments each stays well below.
 */
export const MAX_ITEMS_PER_PAYLOAD = 20_000
/** Notes kept per payload; the rest are counted, so a bad batch cannot flood the log. */
export const MAX_PROBLEMS_PER_PAYLOAD = 50

export class ParseContext {
  readonly media: NewMedia[] = []
  readonly unsends: Unsend[] = []
  readonly problems: string[] = []
  private remaining: number
  private exhausted = false
  private unreported = 0

  constructor(
    readonly receivedAt: Date,
    private readonly maxItems = MAX_ITEMS_PER_PAYLOAD,
  ) {
    this.remaining = maxItems
  }

  /** Records a problem; `path` locates it (`entry[0].messaging[3]`), `what` says what and why. */
  note(path: string, what: string): void {
    if (this.problems.length < MAX_PROBLEMS_PER_PAYLOAD) this.problems.push(`${path}: ${what}`)
    else this.unreported++
  }

  /** Spends one unit of the work budget on the item at `path`; false once it is spent. */
  take(path: string): boolean {
    if (this.remaining > 0) {
      this.remaining--
      return true
    }
    if (!this.exhausted) {
      this.exhausted = true
      this.note(path, `the payload has more than ${this.maxItems} items; this one and all after it were skipped`)
    }
    return false
  }

  /**
   * Visits `items` (found at `path`) within the budget. An item whose reading throws (a library
   * caller may hand us objects with throwing getters) is skipped with a note, not propagated.
   */
  each(items: readonly unknown[], path: string, visit: (item: unknown, itemPath: string, index: number) => void): void {
    const n = items.length
    for (let i = 0; i < n; i++) {
      const itemPath = `${path}[${i}]`
      if (!this.take(itemPath)) return
      try {
        visit(items[i], itemPath, i)
      } catch {
        // The error's message could quote the input; the path is enough to find it.
        this.note(itemPath, 'reading it failed; skipped')
      }
    }
  }

  /** The notes, with a count of those that did not fit. */
  finalProblems(): string[] {
    return this.unreported > 0 ? [...this.problems, `…and ${this.unreported} more problems`] : [...this.problems]
  }
}
