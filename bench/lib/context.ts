/** What every scenario receives: the mode, where to put temporary files, profiling, logging. */
import path from 'node:path'

export interface BenchContext {
  /** `--quick`: a short smoke version (CI) with smaller counts and durations. */
  readonly quick: boolean
  /** Temporary directory for this run (data dirs, logs, downloaded files); removed at the end. */
  readonly workDir: string
  readonly resultsDir: string
  /** Set with `--profile`: where child processes write their .cpuprofile files. */
  readonly profileDir: string | undefined
  /** Progress lines on stderr. */
  log(message: string): void
}

/**
 * Node flags for a child under test: CPU profiles in a directory of its own when profiling, one
 * file per thread (Node names them CPU.<date>.<time>.<pid>.<thread id>…; thread 0 is the main
 * thread). A fixed --cpu-prof-name would make the worker threads overwrite each other.
 */
export function profileArgs(ctx: Pick<BenchContext, 'profileDir'>, label: string): string[] {
  if (!ctx.profileDir) return []
  return ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, `${label}-${Date.now()}`)}`]
}

export function workPath(ctx: BenchContext, ...parts: string[]): string {
  return path.join(ctx.workDir, ...parts)
}
