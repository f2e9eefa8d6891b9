/**
 * Baseline for large files: `curl -o` of the same URLs, all at once (one curl per file, as a
 * shell script would), with the WhatsApp Bearer header. curl does not fsync, so the time of a
 * following fsync of each file is measured too: the durable variant of the same copy.
 */
import { spawn } from 'node:child_process'
import { open } from 'node:fs/promises'
import path from 'node:path'
import { loopbackUrl } from '../lib/loopback.js'

export interface CurlResult {
  elapsedMs: number
  /** curl, then an fsync of every file: what a durable copy with curl costs. */
  elapsedWithFsyncMs: number
  files: string[]
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function curl(url: string, out: string, token: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // The token goes through stdin (`-H @-`), never on a command line another process could read.
    const child = spawn('curl', ['--silent', '--show-error', '--fail', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-H', '@-', '-o', out, loopbackUrl(url)], {
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.stdin.end(`Authorization: Bearer ${token}\n`)
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl exited with ${code}: ${err.trim()}`))))
  })
}

/** `curl -o /dev/null` of every URL at once: the emulator's ceiling for large bodies, no disk. */
export async function curlDiscard(urls: readonly string[], token: string, timeoutMs: number): Promise<number> {
  const start = performance.now()
  await Promise.all(urls.map((url) => curl(url, '/dev/null', token, timeoutMs)))
  return performance.now() - start
}

export async function curlAll(urls: readonly string[], dir: string, token: string, timeoutMs: number): Promise<CurlResult> {
  const files = urls.map((_, i) => path.join(dir, `curl-${i}.bin`))
  const start = performance.now()
  await Promise.all(urls.map((url, i) => curl(url, files[i]!, token, timeoutMs)))
  const elapsedMs = performance.now() - start
  await Promise.all(files.map(fsyncFile))
  return { elapsedMs, elapsedWithFsyncMs: performance.now() - start, files }
}
