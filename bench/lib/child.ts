/**
 * Child processes for everything that serves or loads: the gateway and each baseline run in their
 * own process, so no two of them share an event loop with the load generator or the emulator
 * (2 cores: one for the process under test, one for the bench). A small IPC protocol: the child
 * says `ready` (with data such as its URL), the parent sends `run` jobs and finally `stop`.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Absolute path of a compiled bench script, e.g. `baselines/bare-http.js`. */
export function benchScript(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url))
}

export type ToChild = { type: 'run'; id: number; input: unknown } | { type: 'stop' }
export type FromChild = { type: 'ready'; data: unknown } | { type: 'result'; id: number; data: unknown } | { type: 'error'; id?: number; message: string }

export interface ChildOptions {
  /** Names the child in errors. */
  name: string
  /** stdout and stderr go here, so nothing the child prints costs the bench process a thing. */
  logFile: string
  env?: Record<string, string>
  /** e.g. `--cpu-prof`. The bench's own flags (`--expose-gc`) are not passed on. */
  execArgv?: string[]
  readyTimeoutMs?: number
}

export interface Child<R> {
  readonly pid: number
  readonly ready: R
  readonly process: ChildProcess
  /** Sends one job and waits for its result (at most `timeoutMs`). */
  run<O>(input: unknown, timeoutMs: number): Promise<O>
  /** Asks the child to stop cleanly; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000)
  } catch {
    return ''
  }
}

export async function startChild<R>(script: string, o: ChildOptions): Promise<Child<R>> {
  const log = openSync(o.logFile, 'a')
  const child = fork(script, [], {
    env: { PATH: process.env.PATH ?? '', ...o.env },
    execArgv: o.execArgv ?? [],
    stdio: ['ignore', log, log, 'ipc'],
    serialization: 'advanced',
  })
  closeSync(log)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 1
  const died = (why: string) => new Error(`${o.name} ${why}; its log (${o.logFile}) ends with:\n${logTail(o.logFile)}`)

  const ready = await new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(died(`was not ready within ${o.readyTimeoutMs ?? 30_000} ms`)), o.readyTimeoutMs ?? 30_000)
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') {
        clearTimeout(timer)
        resolve(m.data as R)
      } else if (m.type === 'result') {
        pending.get(m.id)?.resolve(m.data)
        pending.delete(m.id)
      } else if (m.id !== undefined) {
        pending.get(m.id)?.reject(new Error(`${o.name}: ${m.message}`))
        pending.delete(m.id)
      } else {
        clearTimeout(timer)
        reject(new Error(`${o.name}: ${m.message}`))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      const err = died(`exited with code ${code}`)
      reject(err)
      for (const p of pending.values()) p.reject(err)
      pending.clear()
    })
  })
  if (child.pid === undefined) throw died('has no pid')

  return {
    pid: child.pid,
    ready,
    process: child,
    run<O>(input: unknown, timeoutMs: number): Promise<O> {
      const id = nextId++
      return new Promise<O>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(died(`did not finish a job within ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v as O)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        })
        child.send({ type: 'run', id, input } satisfies ToChild)
      })
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild)
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      await exited
      clearTimeout(timer)
    },
  }
}
