/**
 * The real `mediagate serve` binary (dist/, built by `pretest`) as a child process, so tests can
 * kill it with SIGKILL mid-work and start it again on the same data.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { MediaJson } from '../../src/serve/present-media.js'

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it for you)`)
}

export interface ChildGateway {
  url: string
  process: ChildProcess
  output(): string
  kill(signal?: NodeJS.Signals): Promise<void>
}

export async function startChildGateway(env: Record<string, string>, args: string[] = ['serve']): Promise<ChildGateway> {
  assertBuilt()
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', MEDIAGATE_LOG_LEVEL: 'info', MEDIAGATE_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 20 s:\n${out}`)), 20_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*mediagate is running/.exec(out)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`gateway exited with ${code} before it was ready:\n${out}`))
    })
  })
  return {
    url,
    process: child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}

/** Every media record the gateway at `baseUrl` lists, following the cursor to the end. */
export async function listAllMedia(baseUrl: string, apiKey: string): Promise<MediaJson[]> {
  const all: MediaJson[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 1000; pages++) {
    const res = await fetch(`${baseUrl}/v1/media?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${apiKey}` } })
    const page = (await res.json()) as { data: MediaJson[]; next_cursor: string | null }
    all.push(...page.data)
    cursor = page.next_cursor
    if (!cursor) break
  }
  return all
}
