/**
 * withDeadline on its own: the download's signal aborts with the retryable deadline error once the
 * time is up, follows the caller's signal until the body is done, and lets go of both after.
 */
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { FetchResponse } from '../../src/fetch/index.js'
import { withDeadline } from '../../src/transfer/deadline.js'

function opened(): { response: FetchResponse } {
  return { response: { status: 200, headers: {}, url: 'https://lookaside.fbsbx.com/x', body: new PassThrough(), contentLength: undefined } }
}

describe('withDeadline', () => {
  it('aborts the download it opened with a retryable network error once the deadline passes', async () => {
    let seen!: AbortSignal
    const { response } = await withDeadline(new AbortController().signal, 50, async (signal) => {
      seen = signal
      return opened()
    })
    const reason = await new Promise<unknown>((resolve) => seen.addEventListener('abort', () => resolve(seen.reason), { once: true }))
    expect(reason).toMatchObject({ code: 'network', retryable: true, vendorCode: 'deadline' })
    expect((reason as Error).message).toContain('MEDIAGATE_DOWNLOAD_DEADLINE_MS')
    response.body.destroy()
  })

  it('follows the caller’s signal while the body is open, and neither after it closed', async () => {
    const caller = new AbortController()
    let seen!: AbortSignal
    const first = await withDeadline(caller.signal, 10_000, async (signal) => {
      seen = signal
      return opened()
    })
    first.response.body.destroy()
    await new Promise((resolve) => setImmediate(resolve))
    caller.abort(new Error('shutdown'))
    expect(seen.aborted).toBe(false)

    const other = new AbortController()
    let during!: AbortSignal
    await withDeadline(other.signal, 10_000, async (signal) => {
      during = signal
      return opened()
    })
    other.abort(new Error('shutdown'))
    expect(during.reason).toMatchObject({ message: 'shutdown' })
  })

  it('clears everything when the open fails', async () => {
    const caller = new AbortController()
    let seen!: AbortSignal
    await expect(
      withDeadline(caller.signal, 30, async (signal) => {
        seen = signal
        throw new Error('Graph 500')
      }),
    ).rejects.toThrow('Graph 500')
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(seen.aborted).toBe(false)
  })
})
