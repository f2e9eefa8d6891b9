/**
 * `stream.pipeline` for the capture path, without its AbortController. Node's pipeline creates a
 * controller on every call and aborts it when the pipeline ends, building a DOMException with a
 * stack trace each time; a captured photo went through three pipelines, and in the capture
 * profile that machinery was about 7 % of the gateway's CPU.
 *
 * Same contract for what we use: a linear chain; the first error (or premature close) destroys
 * every stream with it; the callback runs once, when the last stream has finished writing (its
 * readable side, if any, belongs to whoever reads it) or at the first error.
 */
import { type Duplex, finished, type Readable, type Writable } from 'node:stream'

type AnyStream = Readable | Duplex | Writable

export function pipe(streams: AnyStream[], callback: (err?: Error) => void, signal?: AbortSignal): void {
  let done = false
  const cleanups: (() => void)[] = []
  const finish = (err?: Error | null) => {
    if (done) return
    done = true
    for (const cleanup of cleanups) cleanup()
    if (err) for (const s of streams) if (!s.destroyed) s.destroy(err)
    callback(err ?? undefined)
  }
  const last = streams.length - 1
  streams.forEach((stream, i) => {
    // These listeners stay: they are also what handles the 'error' each stream emits when the
    // first error destroys it (removed, those would be uncaught).
    finished(stream, { readable: i < last, writable: i > 0 }, (err) => {
      if (err) finish(err)
      else if (i === last) finish()
    })
  })
  if (signal) {
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason }))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    cleanups.push(() => signal.removeEventListener('abort', onAbort))
  }
  for (let i = 0; i < last; i++) (streams[i] as Readable).pipe(streams[i + 1] as Writable)
}

export function pipeAsync(streams: AnyStream[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => pipe(streams, (err) => (err ? reject(err) : resolve()), signal))
}
