/**
 * Image and audio/video work runs at a lower CPU priority than the gateway (MEDIAGATE_TOOL_NICE),
 * so that when the cores are contended, captures (whose Meta URLs expire) and requests get them
 * first and deriving takes what is left; on idle cores the priority changes nothing. That work
 * burns its CPU in two places we do not start ourselves one by one:
 * - libvips's worker threads (sharp): a pool the library grows on its own, shared by every
 *   sharp call in the process. Linux keeps a nice value per thread, so those threads are
 *   found by name in /proc/self/task and lowered after each image operation has run (the pool
 *   may have grown); the gateway's own threads (event loop, libuv's pool that also does file
 *   I/O, the catalog and durable-write threads) keep theirs.
 * - ffmpeg and ffprobe: each child is lowered as soon as it is spawned (ffmpeg.ts).
 * The value is added to the gateway's own nice (an unprivileged process may only lower), up to
 * 19. Elsewhere than Linux, threads are left alone; a failed change is not an error (the work
 * still runs, only at the gateway's priority).
 */
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'

/** What libvips names the threads of its pool (glib's thread name). */
const LIBVIPS_THREAD = 'libvips worker'
const TASKS = '/proc/self/task'

let libvipsNice = 0
/** Threads already looked at, with whether they are libvips's; dropped when they are gone. */
const seen = new Map<number, boolean>()

/** The nice value (0–19, added to the process's own) for libvips's threads from now on; 0 leaves them alone. */
export function setLibvipsNice(nice: number): void {
  if (nice === libvipsNice) return
  libvipsNice = nice
  seen.clear()
  lowerLibvipsThreads()
}

/**
 * Gives every libvips thread that appeared since the last call the configured priority. Called
 * after image operations; costs a directory read of this process's threads (a few dozen).
 */
export function lowerLibvipsThreads(): void {
  if (libvipsNice === 0 || process.platform !== 'linux') return
  let tids: string[]
  try {
    tids = readdirSync(TASKS)
  } catch {
    return
  }
  const live = new Set<number>()
  for (const name of tids) {
    const tid = Number(name)
    live.add(tid)
    if (seen.has(tid)) continue
    const ours = threadName(tid) === LIBVIPS_THREAD
    seen.set(tid, ours)
    if (ours) setNice(tid, libvipsNice)
  }
  for (const tid of seen.keys()) if (!live.has(tid)) seen.delete(tid)
}

/** Lowers a child process (ffmpeg) by `nice`; one that has already exited is left alone. */
export function lowerProcess(pid: number | undefined, nice: number): void {
  if (pid !== undefined && nice > 0) setNice(pid, nice)
}

function threadName(tid: number): string | undefined {
  try {
    return readFileSync(`${TASKS}/${tid}/comm`, 'utf8').trimEnd()
  } catch {
    return undefined
  }
}

function setNice(id: number, nice: number): void {
  try {
    // Relative to the gateway's own: setting a thread above the process's nice needs privileges.
    os.setPriority(id, Math.min(19, os.getPriority() + nice))
  } catch {
    // Gone already, or not allowed here: the work runs at the gateway's priority.
  }
}
