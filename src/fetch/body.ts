/**
 * Size limits on response bodies. An announced Content-Length over the limit is refused before
 * a byte is read, and the connection is discarded rather than drained.
 */
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { MediagateError } from '../errors.js'
import type { FetchResponse } from './fetcher.js'

/** Throws `too_large` (and destroys the body) when the response announces more than `maxBytes`. */
export function assertWithinLimit(response: FetchResponse, maxBytes: number): void {
  if (response.contentLength !== undefined && response.contentLength > maxBytes) {
    response.body.destroy()
    throw new MediagateError('too_large', `the source announces ${response.contentLength} bytes, over the limit of ${maxBytes}`)
  }
}

/**
 * Reads the whole body into memory, for small responses (Graph JSON). Refuses early on
 * Content-Length and again while counting, since chunked responses announce nothing.
 */
export async function readBody(response: FetchResponse, maxBytes: number): Promise<Buffer> {
  assertWithinLimit(response, maxBytes)
  // A body held to its announced length arrives whole or fails: one buffer, no iterator.
  if (response.lengthHeld && response.contentLength !== undefined) return readWhole(response.body, response.contentLength)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      response.body.destroy()
      throw new MediagateError('too_large', `the body exceeds the limit of ${maxBytes} bytes`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}

/**
 * Reads a body of a known length (its Content-Length) into one Buffer, for small bodies: no
 * stream is piped on, and a body that arrives in one chunk is not copied. The body keeps every
 * failure it has (the Fetcher's are held to their length: truncated is `network`, longer is
 * `integrity`; an abort or a dead connection errors it); a count that still disagrees at the
 * end fails the same way, for a stream nothing held.
 */
export function readWhole(body: Readable, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let whole: Buffer | undefined
    let got = 0
    const onData = (chunk: Buffer) => {
      if (got + chunk.length > length) {
        body.destroy(longerThanAnnounced(length))
        return
      }
      if (got === 0 && chunk.length === length) whole = chunk
      else {
        whole ??= Buffer.allocUnsafe(length)
        chunk.copy(whole, got)
      }
      got += chunk.length
    }
    const onEnd = () => {
      cleanup()
      if (got === length) resolve(whole ?? Buffer.alloc(0))
      else reject(truncated(got, length))
    }
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    const cleanup = () => {
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onError)
    }
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
  })
}

/** Discards a response the caller will not read, releasing its connection. */
export function discard(response: FetchResponse): void {
  response.body.destroy()
}

/**
 * A pass-through that fails unless exactly `announced` bytes (a Content-Length) pass: fewer is a
 * truncated download (`network`, retried), more is an answer that contradicts itself
 * (`integrity`). Meta declares no size for Messenger/Instagram media, so this is all that tells
 * a cut-short body from a whole one, whatever the transport did.
 */
export function lengthHeld(announced: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length
      if (seen > announced) callback(longerThanAnnounced(announced))
      else callback(null, chunk)
    },
    flush(callback: TransformCallback) {
      if (seen < announced) callback(truncated(seen, announced))
      else callback()
    },
  })
}

/** A body that goes past its Content-Length: an answer that contradicts itself. */
export function longerThanAnnounced(announced: number): MediagateError {
  return new MediagateError('integrity', `the source sent more than the ${announced} bytes its Content-Length announced`)
}

/** A body that ends short of its Content-Length: a truncated download, retried. */
export function truncated(seen: number, announced: number): MediagateError {
  return new MediagateError('network', `the download ended after ${seen} of the ${announced} bytes its Content-Length announced (truncated)`)
}
