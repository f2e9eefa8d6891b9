/**
 * One group commit of disk puts, run synchronously on a durable-write thread
 * (durable-write-thread.ts): every finish that arrived while the previous group was syncing is
 * made durable together, in an order that keeps each one's guarantee:
 *
 * 1. each small blob's temp file is written and fdatasynced (its data and size, all a reader
 *    needs) before its rename, so no crash can leave a final name on missing data;
 * 2. each blob is looked for under its final name (same name and size there: the temp file is
 *    dropped) or renamed into place, its fan-out directories made first;
 * 3. then each directory that gained an entry is fsynced once for the whole group: the
 *    directory of every rename, and the parent of every directory made, however many blobs
 *    share it. On ext4 the first of these commits the journal for all the renames and mkdirs
 *    before it, and the rest find their changes already committed.
 *
 * A result goes back only after its directories' fsyncs; a failed fsync fails every put that
 * needed it. Directories made durable are remembered (`DurableDirs`), so a blob in a leaf
 * directory already known costs no mkdir and no fsync of a parent; leaves are made when a blob
 * first needs them, not ahead (see `DurableDirs`).
 */
import path from 'node:path'
import { parentsToSync } from './durable-fs.js'

export interface FinishRequest {
  id: number
  /** The store's root: made with `mkdir -p` when absent; the directories below it are tracked one by one. */
  root: string
  tmp: string
  file: string
  size: number
  /** The whole blob, when it was small enough to stay in memory; else `tmp` is written already. */
  bytes?: Uint8Array[]
}

export interface FinishReply {
  id: number
  existed?: boolean
  error?: { message: string; code?: string }
}

/** The filesystem calls a group commit makes; `durable-write-thread.ts` passes the real ones. */
export interface DurableOps {
  /** Creates `file` (exclusive), writes `chunks`, fdatasyncs and closes it. */
  writeFile(file: string, chunks: Uint8Array[]): void
  /** Size of the regular file at `file`; undefined when there is none. */
  fileSize(file: string): number | undefined
  unlink(file: string): void
  /** Makes one directory; true when made, false when it was there already. */
  mkdir(dir: string): boolean
  /** `mkdir -p`; the top-most directory made, or undefined when `dir` was there. */
  mkdirp(dir: string): string | undefined
  rename(from: string, to: string): void
  fsyncDir(dir: string): void
}

/**
 * The directories this thread knows to be durable: made here and their parent fsynced, or found
 * already there (made by an earlier process, or by this one before a restart). Only the thread
 * that owns a first-level directory makes directories below it (durable-writer.ts), so within a
 * process none is found between its mkdir and its parent's fsync; another process sharing the
 * root could be in that window for a moment, as before this cache.
 *
 * Leaves are made one at a time, as blobs first need them. Making the 256 leaves of a
 * first-level directory at once would save the parent fsync of each new leaf, but costs 65,536
 * mkdirs (about 256 MiB of directory blocks on ext4, and a listing that opens them all) within
 * the first couple of thousand blobs: measured, 3.1–3.5 against 2.4–2.9 ms of gateway CPU per
 * media over the first 2,200 blobs. A lazy leaf costs one mkdir, and its parent's fsync is
 * shared with the rest of its group.
 */
export class DurableDirs {
  private readonly known = new Set<string>()

  constructor(private readonly limit = 100_000) {}

  has(dir: string): boolean {
    return this.known.has(dir)
  }

  add(dir: string): void {
    // Forgetting is always safe (the next blob there syncs the parent again); growing without bound is not.
    if (this.known.size >= this.limit) this.known.clear()
    this.known.add(dir)
  }

  /**
   * `dir`, and with `root` its ancestors up to `root` (after a rename found `dir` gone behind our
   * back, any of them may be).
   */
  forget(dir: string, root = dir): void {
    for (let d = dir; ; d = path.dirname(d)) {
      this.known.delete(d)
      if (d === root || path.dirname(d) === d) break
    }
  }
}

/** One group's bookkeeping: the directories it made and the fsyncs each one waits for. */
class Group {
  /** Directory made (or found) in this group → the directories whose fsync makes its entry durable. */
  readonly made = new Map<string, string[]>()
  /** Directory to fsync → whether that fsync failed. */
  readonly syncs = new Map<string, Error | undefined>()

  constructor(
    private readonly ops: DurableOps,
    private readonly dirs: DurableDirs,
  ) {}

  /** Makes `dir` and any missing ancestor below `root`; adds to `needs` every fsync they wait for. */
  ensure(dir: string, root: string, needs: Set<string>): void {
    if (this.dirs.has(dir)) return
    let syncs = this.made.get(dir)
    if (!syncs) {
      if (dir === root || !dir.startsWith(root + path.sep)) {
        // The root: made by init(); made here (and its new parents synced) only when absent.
        const first = this.ops.mkdirp(dir)
        syncs = first === undefined ? [] : parentsToSync(dir, first)
      } else {
        this.ensure(path.dirname(dir), root, needs)
        syncs = this.ops.mkdir(dir) ? [path.dirname(dir)] : []
      }
      this.made.set(dir, syncs)
      for (const d of syncs) this.syncs.set(d, undefined)
    } else if (dir !== root) {
      this.ensure(path.dirname(dir), root, needs)
    }
    for (const d of syncs) needs.add(d)
  }

  /** Runs every fsync once; remembers the directories whose entries are now durable. */
  commit(): void {
    // Parents first: not needed for durability (every one runs before any result goes back), but
    // the order a reader of a trace expects.
    for (const dir of [...this.syncs.keys()].sort((a, b) => a.length - b.length)) {
      try {
        this.ops.fsyncDir(dir)
      } catch (err) {
        this.syncs.set(dir, err as Error)
        // Not taken for durable any more: the next blob found there syncs it again.
        this.dirs.forget(dir)
      }
    }
    for (const [dir, syncs] of this.made) if (this.syncs.get(dir) === undefined && syncs.every((d) => this.syncs.get(d) === undefined)) this.dirs.add(dir)
  }

  failure(needs: Iterable<string>): Error | undefined {
    for (const d of needs) {
      const err = this.syncs.get(d)
      if (err) return err
    }
    return undefined
  }
}

interface Step {
  req: FinishRequest
  needs: Set<string>
  existed?: boolean
  error?: unknown
}

/** Finishes `requests` as one group commit; one reply each, in order. */
export function finishGroup(requests: FinishRequest[], ops: DurableOps, dirs: DurableDirs): FinishReply[] {
  const group = new Group(ops, dirs)
  const steps: Step[] = requests.map((req) => ({ req, needs: new Set() }))
  for (const step of steps) {
    try {
      if (step.req.bytes) ops.writeFile(step.req.tmp, step.req.bytes)
    } catch (err) {
      step.error = err
    }
  }
  for (const step of steps) {
    if (step.error === undefined) {
      try {
        step.existed = place(step, group, ops, dirs)
      } catch (err) {
        step.error = err
      }
    }
  }
  group.commit()
  return steps.map(({ req, needs, existed, error }) => {
    const failed = error ?? group.failure(needs)
    return failed === undefined ? { id: req.id, existed: existed === true } : { id: req.id, error: errorReply(failed) }
  })
}

/** Step 2 for one blob: true when it was there already (its temp file dropped). */
function place(step: Step, group: Group, ops: DurableOps, dirs: DurableDirs): boolean {
  const { req, needs } = step
  const dir = path.dirname(req.file)
  // Same name means same bytes; a different size means the old file is damaged, so replace it.
  if (ops.fileSize(req.file) === req.size) {
    ops.unlink(req.tmp)
    // Found in a directory not known durable (first seen since start, or its fsync failed): it
    // may be another put's rename not yet synced, so it is synced here before "existed" is said.
    if (!dirs.has(dir)) {
      group.ensure(dir, req.root, needs)
      needs.add(dir)
      group.syncs.set(dir, undefined)
    }
    return true
  }
  group.ensure(dir, req.root, needs)
  try {
    ops.rename(req.tmp, req.file)
  } catch (err) {
    // A directory we made was removed behind our back (an operator cleaning up): make it again.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !dirs.has(dir)) throw err
    dirs.forget(dir, req.root)
    group.ensure(dir, req.root, needs)
    ops.rename(req.tmp, req.file)
  }
  needs.add(dir)
  group.syncs.set(dir, undefined)
  return false
}

function errorReply(err: unknown): { message: string; code?: string } {
  const e = err as NodeJS.ErrnoException
  return { message: e instanceof Error ? e.message : String(err), ...(e?.code ? { code: e.code } : {}) }
}
