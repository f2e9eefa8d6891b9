/**
 * A real clamd for a suite: its own directory, its own signature database (SHA-256 hashes of
 * bytes the test chooses, in a `.hsb` file, the format `sigtool --sha256` writes), listening on a
 * free loopback port in the foreground. clamd takes a few seconds to start. `freshclam` cannot
 * reach the internet here, and the tests must not depend on real malware signatures anyway.
 *
 * Without clamd installed the suites skip with the reason, and fail when CI=true (.ci/run
 * installs Debian's clamav-daemon).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { IN_CI } from './services.js'

export interface Signature {
  name: string
  bytes: Buffer
}

export interface TestClamd {
  readonly port: number
  /** `tcp://127.0.0.1:<port>`, for MEDIAGATE_CLAMAV_URL. */
  readonly url: string
  /** Adds signatures to the database; clamd sees them after `reload()` (or a restart). */
  addSignatures(signatures: Signature[]): Promise<void>
  /** Sends RELOAD and waits until clamd finds `probe` (bytes of a newly added signature). */
  reload(probe: Buffer): Promise<void>
  /** Kills clamd (SIGKILL: an outage, not a shutdown); the port stays ours to restart on. */
  stop(): Promise<void>
  /** Starts it again on the same port and database, and waits until it answers. */
  start(): Promise<void>
  close(): Promise<void>
}

export interface ClamdOptions {
  signatures?: Signature[]
  /** clamd's StreamMaxLength, in bytes. Default 25 MiB (clamd's own default). */
  streamMaxBytes?: number
}

function installed(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** True when clamd can be started here; otherwise skips (or, in CI, fails) with the reason. */
export function clamdAvailable(): boolean {
  if (installed('clamd')) return true
  const message = 'clamd is not installed: `apt-get install -y --no-install-recommends clamav-daemon clamav`; the malware scanning suites are skipped'
  if (IN_CI) throw new Error(`${message} (CI requires it)`)
  console.warn(`SKIPPED: ${message}`)
  return false
}

/** The `.hsb` line `sigtool --sha256` writes: `sha256:size:name`. */
export function hsbLine(signature: Signature): string {
  return `${createHash('sha256').update(signature.bytes).digest('hex')}:${signature.bytes.length}:${signature.name}\n`
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Writes `request` once connected and collects clamd's NUL-terminated reply; undefined when it does not answer. */
function clamdExchange(port: number, request: Buffer, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    let reply = ''
    const done = (value: string | undefined) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(timeoutMs, () => done(undefined))
    socket.once('error', () => done(undefined))
    socket.on('data', (d: Buffer) => {
      reply += d.toString('utf8')
      if (reply.includes('\0')) done(reply.slice(0, reply.indexOf('\0')))
    })
    socket.once('end', () => done(reply === '' ? undefined : reply))
    socket.once('connect', () => socket.write(request))
  })
}

/** One zCOMMAND and its reply, or undefined when clamd does not answer. */
export function clamdCommand(port: number, command: string, timeoutMs = 2000): Promise<string | undefined> {
  return clamdExchange(port, Buffer.from(`z${command}\0`), timeoutMs)
}

/** INSTREAM of `bytes` in one chunk; clamd's reply, or undefined when it does not answer. */
export function clamdScan(port: number, bytes: Buffer, timeoutMs = 5000): Promise<string | undefined> {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(bytes.length)
  return clamdExchange(port, Buffer.concat([Buffer.from('zINSTREAM\0'), length, bytes, Buffer.alloc(4)]), timeoutMs)
}

export async function startClamd(options: ClamdOptions = {}): Promise<TestClamd> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-clamd-'))
  const db = path.join(dir, 'db')
  const port = await freePort()
  await mkdir(db)
  // clamd refuses an empty database: one signature no test will ever send.
  await writeFile(path.join(db, 'test.hsb'), [{ name: 'Mediagate.Test.Placeholder', bytes: Buffer.from(`placeholder ${dir}`) }, ...(options.signatures ?? [])].map(hsbLine).join(''))
  const conf = path.join(dir, 'clamd.conf')
  await writeFile(
    conf,
    [
      `DatabaseDirectory ${db}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      'Foreground yes',
      `LogFile ${path.join(dir, 'clamd.log')}`,
      `StreamMaxLength ${options.streamMaxBytes ?? 25 * 1024 * 1024}`,
      'MaxThreads 4',
      // No periodic self-check: the tests reload when they change the database.
      'SelfCheck 0',
      '',
    ].join('\n'),
  )
  let child: ChildProcess | undefined

  const waitUntilAnswering = async () => {
    // clamd loads its engine in ~4 s on an idle machine; allow for a busy one.
    for (let i = 0; i < 600; i++) {
      if ((await clamdCommand(port, 'PING', 500)) === 'PONG') return
      if (child?.exitCode !== null && child?.exitCode !== undefined) throw new Error(`clamd exited with ${child.exitCode}; see ${dir}/clamd.log`)
      await sleep(100)
    }
    throw new Error(`clamd did not answer on 127.0.0.1:${port} within 60 s; see ${dir}/clamd.log`)
  }

  const clamd: TestClamd = {
    port,
    url: `tcp://127.0.0.1:${port}`,
    async addSignatures(signatures) {
      await appendFile(path.join(db, 'test.hsb'), signatures.map(hsbLine).join(''))
    },
    async reload(probe) {
      if ((await clamdCommand(port, 'RELOAD')) !== 'RELOADING') throw new Error('clamd did not accept RELOAD')
      // clamd loads the new database in the background and scans with the old one meanwhile.
      for (let i = 0; i < 600; i++) {
        if ((await clamdScan(port, probe))?.endsWith('FOUND')) return
        await sleep(100)
      }
      throw new Error('clamd did not load the new signatures within 60 s')
    },
    async stop() {
      const running = child
      child = undefined
      if (!running || running.exitCode !== null) return
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill('SIGKILL')
      await exited
    },
    async start() {
      if (child) return
      child = spawn('clamd', ['-c', conf], { stdio: 'ignore' })
      await waitUntilAnswering()
    },
    async close() {
      await clamd.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
  try {
    await clamd.start()
  } catch (err) {
    await clamd.close()
    throw err
  }
  return clamd
}
