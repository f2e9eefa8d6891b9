import { describe, expect, it } from 'vitest'
import { GroupCommit } from '../../src/util/group-commit.js'

describe('GroupCommit', () => {
  it('flushes items submitted together as one group, in order', async () => {
    const groups: number[][] = []
    const gc = new GroupCommit<number, string>(async (items) => {
      groups.push(items)
      await new Promise((r) => setTimeout(r, 5))
      return items.map((i) => `r${i}`)
    })
    const results = await Promise.all([1, 2, 3].map((i) => gc.submit(i)))
    expect(results).toEqual(['r1', 'r2', 'r3'])
    expect(groups).toEqual([[1, 2, 3]])
  })

  it('collects items that arrive during a flush into the next group', async () => {
    const groups: number[][] = []
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const gc = new GroupCommit<number, number>(async (items) => {
      groups.push(items)
      if (groups.length === 1) await gate
      return items
    })
    const first = gc.submit(1)
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    const later = [gc.submit(2), gc.submit(3)]
    release()
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3])
    expect(groups).toEqual([[1], [2, 3]])
  })

  it('fails every item of a failed group and keeps serving the next', async () => {
    let calls = 0
    const gc = new GroupCommit<number, number>(async (items) => {
      calls++
      if (calls === 1) throw new Error('disk full')
      return items
    })
    const failed = await Promise.allSettled([gc.submit(1), gc.submit(2)])
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(await gc.submit(3)).toBe(3)
  })

  it('caps the size of a group', async () => {
    const sizes: number[] = []
    const gc = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length)
      return items
    }, 2)
    await Promise.all([1, 2, 3, 4, 5].map((i) => gc.submit(i)))
    expect(sizes).toEqual([2, 2, 1])
  })
})
