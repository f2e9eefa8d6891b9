/**
 * Worker-thread entry that checkpoints the gateway's SQLite WAL in the background. By default
 * the connection that commits also checkpoints, whenever the WAL passes 1,000 pages: copying
 * those pages into the database file and fsyncing it stalls that commit, and every webhook
 * waiting on it, for milliseconds (the tail of intake latency). Here the writer's own threshold
 * is raised to a safety net (see threaded-sqlite-catalog.ts) and this thread runs a PASSIVE
 * checkpoint every `intervalMs`: it copies what no reader still needs and never blocks writers.
 */
import BetterSqlite3 from 'better-sqlite3'
import { workerData } from 'node:worker_threads'

const { path, intervalMs } = workerData as { path: string; intervalMs: number }
let db: BetterSqlite3.Database | undefined

function checkpoint(): void {
  try {
    // The file may not exist yet (the catalog thread creates it); try again next time.
    db ??= new BetterSqlite3(path, { fileMustExist: true, timeout: 0 })
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // Busy or not there yet: the next round, or the writer's own threshold, catches up.
  }
}

setInterval(checkpoint, intervalMs)
