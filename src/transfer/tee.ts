/**
 * Splits one stream into two branches that each see every chunk.
 *
 * `tee`: at the pace of the slowest branch still listening: the source is paused while any live
 * branch's buffer is full, so memory stays bounded by the branches' high-water marks whatever the
 * sizes and speeds. A branch that is destroyed (a client that went away) stops counting and the
 * others carry on; when every branch is gone the source is destroyed. A source error destroys
 * every live branch with that error.
 *
 * `teeFollowing`: at the pace of one branch only, the leader (the blob store in lazy serving); the
 * follower (a client) never slows the source down. See there.
 */
import { PassThrough, type Readable } from 'node:stream'
import { pipe } from '../util/pipe.js'

export function tee(source: Readable): [PassThrough, PassThrough] {
  const branches: [PassThrough, PassThrough] = [new PassThrough(), new PassThrough()]
  const live = new Set(branches)
  const blocked = new Set<PassThrough>()
  const resumeIfFree = () => {
    if (blocked.size === 0 && !source.destroyed) source.resume()
  }
  const drop = (branch: PassThrough) => {
    if (!live.delete(branch)) return
    blocked.delete(branch)
    if (live.size === 0) source.destroy()
    else resumeIfFree()
  }
  for (const branch of branches) {
    branch.on('drain', () => {
      blocked.delete(branch)
      resumeIfFree()
    })
    branch.once('close', () => drop(branch))
  }
  source.on('data', (chunk: Buffer) => {
    for (const branch of live) {
      // Destroyed but not yet closed: writing would only queue an error.
      if (branch.destroyed || branch.writableEnded) continue
      if (!branch.write(chunk)) blocked.add(branch)
    }
    if (blocked.size > 0) source.pause()
  })
  source.once('end', () => {
    for (const branch of live) branch.end()
  })
  source.once('error', (err) => {
    for (const branch of [...live]) branch.destroy(err)
  })
  return branches
}

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
  return { leader, follower }
}
