/**
 * Reading the start of a put's body into memory to learn whether it fits in one request: an S3
 * put of a small blob is then one PutObject of a buffer under its final key, and a large one
 * streams on with the buffered start put back in front. lib-storage buffers a part of the same
 * size before its first request anyway, so memory per put does not grow.
 */
import { Readable } from 'node:stream'

export interface BodyHead {
  chunks: Buffer[]
  bytes: number
  /** True when the body ended within the limit: `chunks` are all of it. */
  ended: boolean
}

/**
 * Reads `stream` until it ends or more than `limit` bytes arrived (the last chunk may pass the
 * limit). Rejects with the stream's error, or on a close before the end. The stream is left
 * paused where it stopped, for `rejoin`.
 */
export function readHead(stream: Readable, limit: number): Promise<BodyHead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let bytes = 0
    let settled = false
    const settle = (err: Error | undefined, ended: boolean) => {
      if (settled) return
      settled = true
      stream.off('readable', onReadable)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onClose)
      if (err) reject(err)
      else resolve({ chunks, bytes, ended })
    }
    const onReadable = () => {
      for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
        chunks.push(chunk)
        bytes += chunk.length
        if (bytes > limit) return settle(undefined, false)
      }
    }
    const onEnd = () => settle(undefined, true)
    const onError = (err: Error) => settle(err, false)
    // A destroy without an error (the source closed early) ends nothing: never take it for the end.
    const onClose = () => settle(stream.errored ?? new Error('the body closed before its end'), false)
    if (stream.errored) return settle(stream.errored, false)
    stream.on('readable', onReadable)
    stream.once('end', onEnd)
    stream.once('error', onError)
    stream.once('close', onClose)
  })
}

/** The whole body again: the buffered chunks (let go as they are passed on), then the rest of `stream`. */
export function rejoin(head: BodyHead, stream: Readable): Readable {
  const { chunks } = head
  async function* all(): AsyncGenerator<Buffer> {
    for (let chunk = chunks.shift(); chunk !== undefined; chunk = chunks.shift()) yield chunk
    for await (const chunk of stream) yield chunk as Buffer
  }
  return Readable.from(all(), { objectMode: false })
}
