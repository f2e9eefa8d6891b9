/**
 * Derivations in this process, one at a time per media and at most `concurrency` at once: the
 * background job and requests for a thumbnail or preview that is not made yet share one run
 * instead of racing (a second request waits for the first). Across processes two runs of one
 * media are harmless: same bytes, same keys, the same rows written twice.
 */
import type { DerivativeRecord, Derivatives, DerivedOutcome } from '../catalog/catalog.js'
import type { MediaRecord } from '../media/record.js'
import type { Deriver } from './deriver.js'

export class SingleFlight {
  private readonly inFlight = new Map<string, Promise<DerivedOutcome | undefined>>()
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(
    private readonly deriver: Deriver,
    private readonly catalog: Pick<Derivatives, 'derivativesOf'>,
    private readonly concurrency: number,
  ) {}

  /** Derives the media unless it is complete; joins a derivation of it already running here. */
  derive(media: MediaRecord, signal: AbortSignal): Promise<DerivedOutcome | undefined> {
    const running = this.inFlight.get(media.id)
    if (running) return running
    const run = this.run(media, signal).finally(() => this.inFlight.delete(media.id))
    this.inFlight.set(media.id, run)
    return run
  }

  /** The media's derivatives once complete (made now if needed), for serving. */
  async ensure(media: MediaRecord, signal: AbortSignal): Promise<DerivativeRecord[]> {
    const existing = await this.catalog.derivativesOf(media.id)
    if (this.deriver.complete(media, existing)) return existing
    await this.derive(media, signal)
    return this.catalog.derivativesOf(media.id)
  }

  private async run(media: MediaRecord, signal: AbortSignal): Promise<DerivedOutcome | undefined> {
    if (this.deriver.complete(media, await this.catalog.derivativesOf(media.id))) return undefined
    await this.slot()
    try {
      return await this.deriver.derive(media, signal)
    } finally {
      this.running -= 1
      this.waiting.shift()?.()
    }
  }

  private async slot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running += 1
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.running += 1
  }
}
