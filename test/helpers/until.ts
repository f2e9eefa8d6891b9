/**
 * The one polling loop of the tests that wait on another process, thread, timer or server: calls
 * `probe` until it gives something (anything but undefined or false) and returns it. `what` names
 * the wait, so a timeout says which one ran out.
 */
export interface UntilOptions {
  /** Default 20 s: generous, since a loaded CI machine is slow; a passing test returns early. */
  timeoutMs?: number
  /** Default 50 ms. */
  intervalMs?: number
}

export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, options: UntilOptions = {}): Promise<Exclude<T, false>> {
  const timeoutMs = options.timeoutMs ?? 20_000
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value as Exclude<T, false>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50))
  }
}
