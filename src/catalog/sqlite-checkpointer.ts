/**
 * Worker-thread entry that checkpoints the gateway's SQLite WAL in the background. By default
 * the connection that commits also checkpoints, whenever the WAL passes 1,000 pages: copying
 * those pages into the database file and fsyncing it stalls that commit, and every webhook
 * waiting on it, for milliseconds (the tail of intake latency). Here the writer's own threshold
 * is raised to a safety net (see threaded-sqlite-catalog.ts) and this thread runs a PASSIVE
 * checkpoint every `intervalMs`: it copies what no reader still needs and never blocks writers.
 */
import { statSync } from 'node:fs'
import BetterSqlite3 from 'better-sqlite3'
import { workerData } from 'node:worker_threads'

const { path, intervalMs } = workerData as { path: string; intervalMs: number }
/** While the WAL stays unchanged the rounds thin out to this: waking a thread costs more than the stat. */
const IDLE_INTERVAL_MAX_MS = 4000
let db: BetterSqlite3.Database | undefined
/** The WAL as it was just before the last checkpoint. */
let checkpointed: string | undefined

/**
 * Only commits write the WAL (a claim that finds nothing does not, nor does a checkpoint): an
 * unchanged WAL has nothing new to copy, and an idle gateway skips the checkpoint's read
 * transaction. Taken before the checkpoint, so a commit that lands during it is seen next time
 * (one within the same timestamp tick that leaves the size alone waits for the next commit).
 */
function walState(): string | undefined {
  try {
    const s = statSync(`${path}-wal`, { bigint: true })
    return `${s.ino}:${s.size}:${s.mtimeNs}`
  } catch {
    return undefined
  }
}

/** Whether there was anything to do (the next round comes sooner if so). */
function checkpoint(): boolean {
  const wal = walState()
  if (wal !== undefined && wal === checkpointed) return false
  try {
    // The file may not exist yet (the catalog thread creates it); try again next time.
    db ??= new BetterSqlite3(path, { fileMustExist: true, timeout: 0 })
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[]
    // A reader kept some frames from being copied: try again next round even if nothing is written.
    checkpointed = result && result.checkpointed >= result.log ? wal : undefined
  } catch {
    // Busy or not there yet: the next round, or the writer's own threshold, catches up.
  }
  return true
}

// Every intervalMs while commits come; idle, half as often each round up to the bound. A burst
// after a quiet spell waits at most that long for its first checkpoint (the writer's own
// threshold is the safety net meanwhile).
let delay = intervalMs
function round(): void {
  delay = checkpoint() ? intervalMs : Math.min(IDLE_INTERVAL_MAX_MS, delay * 2)
  setTimeout(round, delay)
}
setTimeout(round, intervalMs)
