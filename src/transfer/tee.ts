/**
 * Splits one stream into two branches that each see every chunk, at the pace of one branch only:
 * the leader (the blob store in lazy serving); the follower (a client) never slows the source
 * down. See `teeFollowing`.
 */
import { PassThrough, type Readable } from 'node:stream'
import { pipe } from '../util/pipe.js'

export interface FollowerOptions {
  /** Bytes the follower may hold unread before it stops being fed from the source. */
  maxLagBytes: number
  /**
   * Every byte from `offset` on, from somewhere else (lazy serving: the blob once it is verified
   * and stored). Asked once, only for a follower that fell behind; a rejection destroys it.
   */
  rest: (offset: number) => Promise<Readable>
}

/**
 * One stream to a leader that sets the pace and a follower that may not hold it back. The source
 * is paused only while the leader's buffer is full. The follower is fed every chunk for as long as
 * it keeps up, within `maxLagBytes` of unread bytes; once it falls further behind (a slow reader,
 * or one that stopped reading) it is fed no more from the source, and gets the rest through
 * `rest(offset)` instead: the bytes it missed, from where it left off, so its stream stays whole
 * and memory stays bounded however it reads. A follower that goes away costs the leader nothing;
 * a leader that goes away before the end stops the source. A source error destroys both.
 */
export function teeFollowing(source: Readable, options: FollowerOptions): { leader: PassThrough; follower: PassThrough } {
  const leader = new PassThrough()
  const follower = new PassThrough()
  let fed = 0
  let feeding = true
  const fallBehind = () => {
    feeding = false
    options.rest(fed).then(
      (rest) => {
        if (follower.destroyed) rest.destroy()
        else pipe([rest, follower], () => {}) // an error of either destroys the other
      },
      (err: unknown) => follower.destroy(err instanceof Error ? err : new Error(String(err))),
    )
  }
  follower.once('close', () => {
    feeding = false
  })
  leader.on('drain', () => source.resume())
  leader.once('close', () => {
    if (!source.readableEnded) source.destroy()
  })
  source.on('data', (chunk: Buffer) => {
    // Destroyed but not yet closed: writing would only queue an error.
    if (feeding && (follower.destroyed || follower.writableEnded)) feeding = false
    if (feeding) {
      // What the follower holds unread: its buffers only, everything downstream has its own bound.
      if (follower.writableLength + follower.readableLength + chunk.length > options.maxLagBytes) fallBehind()
      else {
        follower.write(chunk)
        fed += chunk.length
      }
    }
    if (!leader.destroyed && !leader.write(chunk)) source.pause()
  })
  source.once('end', () => {
    leader.end()
    if (feeding) follower.end()
  })
  source.once('error', (err) => {
    leader.destroy(err)
    if (!follower.destroyed) follower.destroy(err)
  })
  // A 'data' listener starts a fresh stream, not one paused explicitly: a sniffed body is the
  // source peekHead paused and put its head back into (peek-head.ts).
  source.resume()
  return { leader, follower }
}
