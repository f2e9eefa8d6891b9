/**
 * The head of every transfer: the source opened, its announced length checked against the cap,
 * its first bytes read and sniffed, and the body handed on still starting at byte 0 and held to
 * its Content-Length. Where the bytes go next is a destination (destinations.ts): the blob store,
 * the blob store and a client, or a client only.
 */
import type { Readable } from 'node:stream'
import { assertWithinLimit, lengthHeld } from '../fetch/index.js'
import { pipe } from '../util/pipe.js'
import { type MediaSource, type OpenedSource, type OpenSourceOptions, openSource, type SourceDeps } from './open-source.js'
import { peekHead } from './peek-head.js'
import { chooseServedType, SNIFF_BYTES, sniffMime } from './sniff.js'

export interface SniffedSource {
  opened: OpenedSource
  /** Every byte of the response, head included. */
  body: Readable
  sniffedMime: string | null
  /** What we serve the bytes as (see chooseServedType). */
  servedType: string | null
  /** The length the source announced, else what Meta declared; undefined when neither is known. */
  length: number | undefined
}

export async function openSniffed(media: MediaSource, deps: SourceDeps, signal: AbortSignal, options: OpenSourceOptions = {}): Promise<SniffedSource> {
  const opened = await openSource(media, deps, signal, options)
  return sniffOpened(opened, deps.maxBytes)
}

/** Sniffs a source already opened (proxy serving opens it itself, to tell 206 from 200 first). */
export async function sniffOpened(opened: OpenedSource, maxBytes: number): Promise<SniffedSource> {
  const { response } = opened
  assertWithinLimit(response, maxBytes)
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
    body: response.contentLength === undefined || response.lengthHeld ? body : heldToLength(body, response.contentLength),
    sniffedMime,
    servedType: chooseServedType(opened.declaredMime, sniffedMime),
    length: response.contentLength ?? opened.expectedSize,
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
