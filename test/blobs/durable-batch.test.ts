import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { type DurableOps, DurableDirs, type FinishRequest, finishGroup } from '../../src/blobs/durable-batch.js'
import { durableOps } from '../../src/blobs/durable-ops.js'
import { contentsSharing, sha256 } from './fixtures.js'

/** The real filesystem calls, each logged in the order made; `failSync` makes chosen fsyncs fail. */
function recordingOps(failSync: (dir: string) => boolean = () => false) {
  const log: string[] = []
  const ops: DurableOps = {
    writeFile: (file, chunks) => (durableOps.writeFile(file, chunks), void log.push(`datasync ${file}`)),
    fileSize: (file) => durableOps.fileSize(file),
    unlink: (file) => (durableOps.unlink(file), void log.push(`unlink ${file}`)),
    mkdir: (dir) => {
      const made = durableOps.mkdir(dir)
      if (made) log.push(`mkdir ${dir}`)
      return made
    },
    mkdirp: (dir) => durableOps.mkdirp(dir),
    rename: (from, to) => (durableOps.rename(from, to), void log.push(`rename ${from} ${to}`)),
    fsyncDir: (dir) => {
      if (failSync(dir)) throw Object.assign(new Error(`EIO: i/o error, fsync '${dir}'`), { code: 'EIO' })
      durableOps.fsyncDir(dir)
      log.push(`fsync ${dir}`)
    },
  }
  return { ops, log }
}

let root: string
let nextId = 0
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mediagate-durable-'))
  await mkdir(path.join(root, '.tmp'))
})
afterEach(() => rm(root, { recursive: true, force: true }))

function request(bytes: Buffer): FinishRequest {
  const id = nextId++
  return { id, root, tmp: path.join(root, '.tmp', `${id}.part`), file: path.join(root, blobKeyFor(sha256(bytes))), size: bytes.length, bytes: [bytes] }
}

describe('a group commit of disk puts', () => {
  it('stores every blob of a group sharing directories, in the order that makes each durable, each directory fsynced once', async () => {
    // Same leaf (ab/cd), same first-level directory only, elsewhere, and the same bytes twice.
    const sameLeaf = contentsSharing('abcd', 3)
    const sameFirst = contentsSharing('ab', 6).filter((b) => !sha256(b).startsWith('abcd'))
    const others = Array.from({ length: 20 }, (_, i) => Buffer.from(`other ${i}`))
    const contents = [...sameLeaf, ...sameFirst, ...others, sameLeaf[0]!, others[3]!]
    const reqs = contents.map(request)
    const { ops, log } = recordingOps()
    const replies = finishGroup(reqs, ops, new DurableDirs())

    expect(replies.map((r) => r.id)).toEqual(reqs.map((r) => r.id))
    expect(replies.filter((r) => r.error)).toEqual([])
    // The repeats find their first copy, renamed earlier in the same group.
    expect(replies.map((r) => r.existed)).toEqual([...contents.slice(0, -2).map(() => false), true, true])
    for (const [i, req] of reqs.entries()) expect((await readFile(req.file)).equals(contents[i]!)).toBe(true)

    const at = (entry: string) => log.indexOf(entry)
    const syncs = log.filter((e) => e.startsWith('fsync '))
    expect(new Set(syncs).size).toBe(syncs.length)
    for (const req of reqs.slice(0, -2)) {
      const renamed = at(`rename ${req.tmp} ${req.file}`)
      expect(at(`datasync ${req.tmp}`)).toBeGreaterThanOrEqual(0)
      expect(at(`datasync ${req.tmp}`)).toBeLessThan(renamed)
      expect(at(`fsync ${path.dirname(req.file)}`)).toBeGreaterThan(renamed)
    }
    for (const entry of log.filter((e) => e.startsWith('mkdir '))) {
      const dir = entry.slice('mkdir '.length)
      expect(at(`fsync ${path.dirname(dir)}`), dir).toBeGreaterThan(at(entry))
    }
    // One fsync of sha256/ab for its new leaves, however many blobs made them.
    expect(syncs.filter((e) => e === `fsync ${path.join(root, 'sha256', 'ab')}`)).toHaveLength(1)
  })

  it('a put fails when an fsync it waits for fails, and only the puts that needed it', async () => {
    const [a, b] = contentsSharing('abcd', 2)
    const elsewhere = contentsSharing('12', 1)[0]!
    const leaf = path.join(root, 'sha256', 'ab', 'cd')
    const dirs = new DurableDirs()
    const { ops } = recordingOps((dir) => dir === leaf)
    const reqs = [a!, elsewhere, b!].map(request)
    const replies = finishGroup(reqs, ops, dirs)
    expect(replies.map((r) => r.error?.code)).toEqual(['EIO', undefined, 'EIO'])
    // The failed group's directories are not taken for durable: the next put there syncs them again.
    const again = recordingOps()
    // a's rename happened, its directory's fsync did not: found again, it is synced before "existed".
    expect(finishGroup([request(a!)], again.ops, dirs)[0]).toMatchObject({ existed: true })
    expect(again.log).toContain(`fsync ${leaf}`)
    const c = contentsSharing('abcd', 3)[2]!
    expect(finishGroup([request(c)], again.ops, dirs)[0]!.error).toBeUndefined()
  })

  it('a blob in a directory known durable costs no mkdir and no parent fsync; one removed behind its back is made again', async () => {
    const [first, second, third] = contentsSharing('abcd', 3)
    const dirs = new DurableDirs()
    finishGroup([request(first!)], recordingOps().ops, dirs)

    const known = recordingOps()
    const req = request(second!)
    expect(finishGroup([req], known.ops, dirs)[0]).toEqual({ id: req.id, existed: false })
    expect(known.log).toEqual([`datasync ${req.tmp}`, `rename ${req.tmp} ${req.file}`, `fsync ${path.dirname(req.file)}`])

    await rm(path.join(root, 'sha256', 'ab'), { recursive: true })
    const removed = recordingOps()
    const again = request(third!)
    expect(finishGroup([again], removed.ops, dirs)[0]).toEqual({ id: again.id, existed: false })
    expect((await readFile(again.file)).equals(third!)).toBe(true)
    expect(removed.log).toContain(`mkdir ${path.join(root, 'sha256', 'ab')}`)
    expect(removed.log).toContain(`fsync ${path.join(root, 'sha256')}`)
  })
})
