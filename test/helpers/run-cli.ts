/** Runs the real `mediagate` binary (dist/) and collects its exit code and output. */
import { spawn } from 'node:child_process'
import { assertBuilt, CLI } from './child-gateway.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** With nothing but PATH (and a quiet log level, unless `env` sets one) in its environment; from `cwd` if given. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 30_000, cwd?: string): Promise<CliResult> {
  assertBuilt()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', MEDIAGATE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`mediagate ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
