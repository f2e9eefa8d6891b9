/**
 * Group commit: items that arrive while a flush is running are collected and flushed together
 * in the next one. Under load, many webhooks share one transaction and one fsync; at rest a lone
 * webhook is flushed at once, with no timer adding latency.
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = []
  private running = false

  /** `flush` must return one result per item, in order; a throw fails every item of the group. */
  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      if (!this.running) void this.drain()
    })
  }

  private async drain(): Promise<void> {
    this.running = true
    try {
      // Yield once so requests parsed in the same tick join the first group.
      await new Promise((r) => setImmediate(r))
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxBatch)
        try {
          const results = await this.flush(group.map((g) => g.item))
          group.forEach((g, i) => g.resolve(results[i] as R))
        } catch (err) {
          for (const g of group) g.reject(err)
        }
      }
    } finally {
      this.running = false
    }
  }
}
