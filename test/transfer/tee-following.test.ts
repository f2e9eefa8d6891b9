/**
 * teeFollowing on real streams: the leader sets the pace, a follower that stops reading never
 * holds the source, and gets what it missed from `rest`, whole and in order.
 */
import { createHash, randomBytes } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { peekHead } from '../../src/transfer/peek-head.js'
import { teeFollowing } from '../../src/transfer/tee.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const KiB = 1024

function source(data: Buffer, chunk: number) {
  let offset = 0
  let reads = 0
  const stream = new Readable({
    read() {
      reads++
      if (offset >= data.length) return void this.push(null)
      this.push(data.subarray(offset, offset + chunk))
      offset += chunk
    },
  })
  return { stream, sent: () => offset, reads: () => reads }
}

async function drain(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part)
  return Buffer.concat(parts)
}

describe('teeFollowing', () => {
  it('reads a body whose head was peeked (the source peekHead paused and put the head back into)', async () => {
    const data = randomBytes(256 * KiB)
    const { head, body } = await peekHead(source(data, 16 * KiB).stream, 4100)
    expect(head).toEqual(data.subarray(0, 4100))
    const { leader, follower } = teeFollowing(body, { maxLagBytes: 1024 * KiB, rest: async () => Readable.from([]) })
    const [led, followed] = await Promise.all([drain(leader), drain(follower)])
    expect(sha(led)).toBe(sha(data))
    expect(sha(followed)).toBe(sha(data))
  })

  it('runs the source to its end at the leader’s pace while the follower reads nothing, then hands the follower the rest', async () => {
    const data = randomBytes(4 * 1024 * KiB)
    const src = source(data, 16 * KiB)
    const asked: number[] = []
    const { leader, follower } = teeFollowing(src.stream, {
      maxLagBytes: 256 * KiB,
      rest: async (offset) => {
        asked.push(offset)
        await leaderFinished
        return Readable.from([data.subarray(offset)])
      },
    })
    const leaderFinished = drain(leader)
    // Nobody reads the follower, yet the whole source goes through to the leader.
    expect(sha(await leaderFinished)).toBe(sha(data))
    expect(src.sent()).toBe(data.length)
    expect(asked).toHaveLength(1)
    // It fell behind within its allowance: what it holds is bounded.
    expect(asked[0]!).toBeLessThanOrEqual(256 * KiB)
    expect(follower.writableLength + follower.readableLength).toBeLessThanOrEqual(256 * KiB)
    const got = await drain(follower)
    expect(sha(got)).toBe(sha(data))
  })

  it('feeds a follower that keeps up from the source alone', async () => {
    const data = randomBytes(1024 * KiB)
    const src = source(data, 16 * KiB)
    let asked = false
    const { leader, follower } = teeFollowing(src.stream, {
      maxLagBytes: 256 * KiB,
      rest: async () => {
        asked = true
        return Readable.from([])
      },
    })
    const [a, b] = await Promise.all([drain(leader), drain(follower)])
    expect(sha(a)).toBe(sha(data))
    expect(sha(b)).toBe(sha(data))
    expect(asked).toBe(false)
  })

  it('lets the leader finish when the follower goes away, stops the source when the leader does, and fails both on a source error', async () => {
    const data = randomBytes(512 * KiB)
    const one = source(data, 16 * KiB)
    const first = teeFollowing(one.stream, { maxLagBytes: 64 * KiB, rest: async () => Readable.from([]) })
    first.follower.destroy()
    expect(sha(await drain(first.leader))).toBe(sha(data))

    const two = source(data, 16 * KiB)
    const second = teeFollowing(two.stream, { maxLagBytes: 64 * KiB, rest: async () => Readable.from([]) })
    second.leader.destroy()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(two.stream.destroyed).toBe(true)

    const broken = new PassThrough()
    const third = teeFollowing(broken, { maxLagBytes: 64 * KiB, rest: async () => Readable.from([]) })
    const leaderFails = drain(third.leader)
    const followerFails = drain(third.follower)
    broken.write(Buffer.alloc(1000))
    broken.destroy(new Error('reset mid-body'))
    await expect(leaderFails).rejects.toThrow('reset mid-body')
    await expect(followerFails).rejects.toThrow('reset mid-body')
  })

  it('destroys a follower whose rest cannot be had', async () => {
    const data = randomBytes(1024 * KiB)
    const { leader, follower } = teeFollowing(source(data, 16 * KiB).stream, {
      maxLagBytes: 64 * KiB,
      rest: async () => Promise.reject(new Error('integrity')),
    })
    // Not read (so it falls behind), only watched.
    const failed = new Promise<Error>((resolve) => follower.once('error', resolve))
    await drain(leader)
    expect((await failed).message).toBe('integrity')
    expect(follower.destroyed).toBe(true)
  })
})
