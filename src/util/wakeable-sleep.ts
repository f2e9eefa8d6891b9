/**
 * The idle wait of a polling loop (capture worker, forwarder): sleeps until a timeout or until
 * woken. A wake that arrives while the loop is busy is remembered, so the next sleep returns at
 * once instead of waiting a whole poll interval for work that is already there.
 */
export class WakeableSleep {
  private wakeUp: (() => void) | undefined
  private woken = false

  wake(): void {
    this.woken = true
    this.wakeUp?.()
  }

  /** True (and cleared) when a wake arrived since the last call; for loops that check between steps. */
  takeWake(): boolean {
    const woken = this.woken
    this.woken = false
    return woken
  }

  /** Resolves true when a wake ended the sleep (or one was waiting), false when the time ran out. */
  sleep(ms: number): Promise<boolean> {
    if (this.takeWake()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), ms)
      const self = this
      function done(woken: boolean) {
        clearTimeout(timer)
        self.wakeUp = undefined
        self.woken = false
        resolve(woken)
      }
      this.wakeUp = () => done(true)
    })
  }
}
