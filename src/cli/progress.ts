/**
 * Progress for long commands: a bar on a terminal, plain lines (at most one every few seconds)
 * when the output is a file or a pipe, as cli-progress's noTTYOutput does.
 */
import cliProgress from 'cli-progress'

export interface Progress {
  increment(by?: number): void
  setTotal(total: number): void
  stop(): void
}

/** A bar on a terminal and nothing otherwise (for commands whose output lines say it all). */
export function startTtyProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY === true) return startProgress(label, total, stream)
  return { increment: () => {}, setTotal: () => {}, stop: () => {} }
}

export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed, eta {eta_formatted}`,
      stream,
      noTTYOutput: !stream.isTTY,
      notTTYSchedule: 5000,
      hideCursor: stream.isTTY === true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(Math.max(total, 0), 0)
  return {
    increment: (by = 1) => bar.increment(by),
    setTotal: (n) => bar.setTotal(n),
    stop: () => bar.stop(),
  }
}
