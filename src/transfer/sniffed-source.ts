/**
 * The head of every transfer: the source opened, its announced length checked against the cap,
 * its first bytes read and sniffed, and the body handed on still starting at byte 0 and held to
 * its Content-Length. Where the bytes go next is a destination (destinations.ts): the blob store,
 * the blob store and a client, or a client only.
 *
 * The fast case, for a destination that takes the bytes at once (the blob store, `whole`): a
 * body whose Content-Length is at most WHOLE_BODY_BYTES is read into one Buffer off the same
 * guarded stream (same length hold, abort, deadline and errors), sniffed from that buffer, and
 * handed on as the buffer: for a photo, the streams and pipes of the slow case cost more than the
 * bytes. What checks the bytes is the same: the blob store's put hashes, counts and verifies a
 * Buffer as it does a stream (blobs/put-frame.ts).
 */
import type { Readable } from 'node:stream'
import { assertWithinLimit, lengthHeld, readWhole } from '../fetch/index.js'
import { pipe } from '../util/pipe.js'
import { type MediaSource, type OpenedSource, type OpenSourceOptions, openSource, type SourceDeps } from './open-source.js'
import { peekHead } from './peek-head.js'
import { chooseServedType, SNIFF_BYTES, sniffMime } from './sniff.js'

/** Bodies announced at most this long are read whole when the destination takes a Buffer (the disk store's in-memory limit). */
export const WHOLE_BODY_BYTES = 256 * 1024

export interface SniffedSource<Body extends Readable | Buffer = Readable> {
  opened: OpenedSource
  /** Every byte of the response, head included: a stream, or with `whole` a small body read at once. */
  body: Body
  sniffedMime: string | null
  /** What we serve the bytes as (see chooseServedType). */
  servedType: string | null
  /** The length the source announced, else what Meta declared; undefined when neither is known. */
  length: number | undefined
}

export interface SniffOptions {
  /** The destination takes a Buffer: a small body with a Content-Length is read whole (the fast case). */
  whole?: boolean
}

export function openSniffed(media: MediaSource, deps: SourceDeps, signal: AbortSignal, options: OpenSourceOptions & { whole: true }): Promise<SniffedSource<Readable | Buffer>>
export function openSniffed(media: MediaSource, deps: SourceDeps, signal: AbortSignal, options?: OpenSourceOptions & { whole?: false }): Promise<SniffedSource>
export async function openSniffed(media: MediaSource, deps: SourceDeps, signal: AbortSignal, options: OpenSourceOptions & SniffOptions = {}): Promise<SniffedSource<Readable | Buffer>> {
  const opened = await openSource(media, deps, signal, options)
  return sniffOpened(opened, deps.maxBytes, { whole: options.whole === true })
}

/** Sniffs a source already opened (proxy serving opens it itself, to tell 206 from 200 first). */
export function sniffOpened(opened: OpenedSource, maxBytes: number, options: { whole: true }): Promise<SniffedSource<Readable | Buffer>>
export function sniffOpened(opened: OpenedSource, maxBytes: number, options?: { whole?: false }): Promise<SniffedSource>
export function sniffOpened(opened: OpenedSource, maxBytes: number, options?: SniffOptions): Promise<SniffedSource<Readable | Buffer>>
export async function sniffOpened(opened: OpenedSource, maxBytes: number, options: SniffOptions = {}): Promise<SniffedSource<Readable | Buffer>> {
  const { response } = opened
  assertWithinLimit(response, maxBytes)
  const length = response.contentLength
  if (options.whole && length !== undefined && length <= WHOLE_BODY_BYTES) {
    const bytes = await readWhole(response.lengthHeld ? response.body : heldToLength(response.body, length), length)
    const sniffedMime = await sniffMime(bytes.subarray(0, SNIFF_BYTES))
    return { opened, body: bytes, sniffedMime, servedType: chooseServedType(opened.declaredMime, sniffedMime), length }
  }
  const { head, body } = await peekHead(response.body, SNIFF_BYTES)
  let sniffedMime: string | null
  try {
    sniffedMime = await sniffMime(head)
  } catch (err) {
    body.destroy()
    throw err
  }
  return {
    opened,
    // The Fetcher's bodies are held to their length already, in the stream they come in.
    body: length === undefined || response.lengthHeld ? body : heldToLength(body, length),
    sniffedMime,
    servedType: chooseServedType(opened.declaredMime, sniffedMime),
    length: length ?? opened.expectedSize,
  }
}

/**
 * The body, failing unless it has exactly `announced` bytes (its Content-Length): see lengthHeld.
 * Every destination reads this stream, and none commits or ends its output before the end, so a
 * wrong count never becomes a blob or a complete-looking response.
 */
function heldToLength(body: Readable, announced: number): Readable {
  const counter = lengthHeld(announced)
  pipe([body, counter], () => {}) // an error of the body destroys the counter with it; its reader sees it
  return counter
}
