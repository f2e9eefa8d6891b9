/**
 * Progress for long commands: a bar on a terminal; on a file or a pipe, plain lines (at most one
 * every few seconds, and one at the end) that a log keeps readably. Nothing at all for no work.
 */
import cliProgress from 'cli-progress'

export interface Progress {
  increment(by?: number): void
  setTotal(total: number): void
  stop(): void
}

const LINE_EVERY_MS = 5000
/** A bar on a terminal and nothing otherwise (for commands whose output lines say it all). */
export function startTtyProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY === true) return startProgress(label, total, stream)
  return { increment: () => {}, setTotal: () => {}, stop: () => {} }
}

export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY !== true) return plainProgress(label, total, stream)
  let bar: cliProgress.SingleBar | undefined
  const open = (n: number) => {
    bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed, eta {eta_formatted}`, stream, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    )
    bar.start(n, 0)
  }
  if (total > 0) open(total)
  return {
    increment: (by = 1) => bar?.increment(by),
    setTotal: (n) => (bar ? bar.setTotal(n) : n > 0 && open(n)),
    stop: () => bar?.stop(),
  }
}

function plainProgress(label: string, initialTotal: number, stream: NodeJS.WritableStream): Progress {
  let total = Math.max(initialTotal, 0)
  let done = 0
  let lastLine = Date.now()
  const started = lastLine
  const line = () => {
    const count = total > 0 ? `${done}/${total} (${Math.floor((done / total) * 100)}%)` : String(done)
    stream.write(`${label}: ${count}, ${Math.round((Date.now() - started) / 1000)} s\n`)
    lastLine = Date.now()
  }
  return {
    increment(by = 1) {
      done += by
      if (Date.now() - lastLine >= LINE_EVERY_MS) line()
    },
    setTotal(n) {
      total = Math.max(n, 0)
    },
    stop() {
      if (total > 0 || done > 0) line()
    },
  }
}
