/**
 * Reads the first bytes of a stream before deciding how to answer (the sniffed type decides
 * inline or attachment), then hands back a stream that still starts at byte 0. Holds at most
 * the chunks that reach `bytes`, never the whole body.
 */
import { PassThrough, type Readable } from 'node:stream'

export interface PeekedStream {
  /** Up to `bytes` bytes from the start (fewer if the stream is shorter). */
  head: Buffer
  /** The whole stream again, head included; errors of the source arrive here. */
  body: Readable
}

export async function peekHead(source: Readable, bytes: number): Promise<PeekedStream> {
  const chunks: Buffer[] = []
  let length = 0
  const ended = await new Promise<boolean>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      length += chunk.length
      if (length >= bytes) done(false)
    }
    const onEnd = () => done(true)
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    const cleanup = () => {
      source.off('data', onData)
      source.off('end', onEnd)
      source.off('error', onError)
    }
    const done = (atEnd: boolean) => {
      source.pause()
      cleanup()
      // Back at once, not after the await: a source whose end already arrived would otherwise
      // emit 'end' (on the next tick, before this promise's continuation) with the head taken.
      if (!atEnd) putBack(source, chunks)
      resolve(atEnd)
    }
    source.on('data', onData)
    source.once('end', onEnd)
    source.once('error', onError)
  })
  // The head is a copy of `bytes` at most; the chunks themselves (often the whole body in one)
  // go back as they are, not copied once more into one buffer.
  const head = chunks.length === 1 ? chunks[0]!.subarray(0, bytes) : Buffer.concat(chunks, Math.min(length, bytes))
  if (!ended) {
    return { head, body: source }
  }
  const body = new PassThrough()
  for (const chunk of chunks) body.write(chunk)
  body.end()
  return { head, body }
}

/**
 * The chunks read go back into the paused source, which is the body again: no stream and no
 * pipe more per transfer. Its errors reach its reader as they would have. Last chunk first:
 * each unshift goes in front of the one before. The source stays paused: a reader that only
 * listens for 'data' must resume it (pipe does).
 */
function putBack(source: Readable, chunks: Buffer[]): void {
  for (let i = chunks.length - 1; i >= 0; i--) source.unshift(chunks[i]!)
}
