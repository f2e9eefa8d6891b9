/**
 * Splits one stream into two branches that each see every chunk, at the pace of the slowest branch
 * still listening: the source is paused while any live branch's buffer is full, so memory stays
 * bounded by the branches' high-water marks whatever the sizes and speeds. A branch that is
 * destroyed (a client that went away) stops counting and the others carry on; when every branch
 * is gone the source is destroyed. A source error destroys every live branch with that error.
 */
import { PassThrough, type Readable } from 'node:stream'

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
