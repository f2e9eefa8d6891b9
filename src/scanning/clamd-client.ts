/**
 * A small client of clamd's own protocol over a real connection (TCP or a unix socket), one
 * connection per command: `zPING`, `zVERSION`, `zRELOAD` and `zINSTREAM`. The `z` form ends each
 * command and each reply with a NUL byte. INSTREAM sends the bytes as chunks, each prefixed by
 * its length (4 bytes, big-endian), and a zero-length chunk to end; clamd refuses a stream longer
 * than its `StreamMaxLength` (answering `INSTREAM size limit exceeded. ERROR` and closing); when
 * that answer is lost with the connection, the client asks clamd once more (`refusesLength`).
 *
 * Every command has a timeout: the connection, and any silence while it is open. Socket errors,
 * timeouts and clamd's `… ERROR` answers become MediagateErrors with code `scanner` (retryable),
 * the vendor's words in `vendorCode` and the original in `cause`; a stream over the limit is
 * `too_large_to_scan`.
 */
import { connect, type Socket } from 'node:net'
import { setImmediate as yieldToIo } from 'node:timers/promises'
import type { Readable } from 'node:stream'
import { MediagateError } from '../errors.js'
import { type ClamdAddress, describeClamdAddress } from './clamd-address.js'

export interface ClamdClientOptions {
  address: ClamdAddress
  /** Longest wait for the connection, or silence on it (clamd scanning a large stream answers at the end). */
  timeoutMs: number
  /** clamd's `StreamMaxLength`: a stream longer than this is refused before it is sent in full. */
  streamMaxBytes: number
  /** Bytes per INSTREAM chunk. Default 64 KiB. */
  chunkBytes?: number
}

export type ScanVerdict = { infected: false } | { infected: true; signature: string }

const DEFAULT_CHUNK = 64 * 1024
const LONGEST_REPLY = 4096
const END_OF_STREAM = Buffer.alloc(4)
/** How long a refusal probe waits: clamd refuses within milliseconds, and accepting means silence. */
const REFUSAL_WAIT_MS = 2000

export class ClamdClient {
  readonly target: string

  constructor(private readonly options: ClamdClientOptions) {
    this.target = describeClamdAddress(options.address)
  }

  /** Resolves when clamd answers PONG. */
  async ping(signal?: AbortSignal): Promise<void> {
    const reply = await this.command('zPING', signal)
    if (reply !== 'PONG') throw this.vendorError(`answered PING with "${reply}"`, reply)
  }

  /** The engine and its signatures, e.g. `ClamAV 1.4.3/27843/Sat Dec  5 09:35:02 2026`. */
  async version(signal?: AbortSignal): Promise<string> {
    const reply = await this.command('zVERSION', signal)
    if (!/^ClamAV /.test(reply)) throw this.vendorError(`answered VERSION with "${reply}"`, reply)
    return reply
  }

  /** Asks clamd to load its signature databases again (new signatures find old malware). */
  async reload(signal?: AbortSignal): Promise<void> {
    const reply = await this.command('zRELOAD', signal)
    if (reply !== 'RELOADING') throw this.vendorError(`answered RELOAD with "${reply}"`, reply)
  }

  /** Streams the bytes to clamd and returns its verdict. The body is consumed (or destroyed on failure). */
  scan(body: Readable, signal?: AbortSignal): Promise<ScanVerdict> {
    const chunkBytes = this.options.chunkBytes ?? DEFAULT_CHUNK
    let sent = 0
    return this.session('zINSTREAM', signal, async (socket, answered) => {
      try {
        for await (const data of body as AsyncIterable<Buffer>) {
          for (let offset = 0; offset < data.length; offset += chunkBytes) {
            const piece = data.subarray(offset, offset + chunkBytes)
            sent += piece.length
            if (sent > this.options.streamMaxBytes) {
              throw new MediagateError('too_large_to_scan', `the media is larger than clamd's stream limit (${this.options.streamMaxBytes} bytes)`, { vendorCode: 'StreamMaxLength' })
            }
            const header = Buffer.allocUnsafe(4)
            header.writeUInt32BE(piece.length, 0)
            await write(socket, header)
            await write(socket, piece)
            // Let the socket read: clamd answers early when it refuses the stream, then closes,
            // and writing on would lose its answer to EPIPE.
            await yieldToIo()
            if (answered()) return
          }
        }
      } finally {
        if (!body.readableEnded) body.destroy()
      }
      await write(socket, END_OF_STREAM)
    })
      .catch(async (err: unknown) => {
        // clamd refuses an oversized stream by answering and closing; a write racing that close
        // fails with EPIPE and the socket goes with the answer still unread. Ask clamd again.
        if (lostConnection(err) && sent > 0 && (await this.refusesLength(sent, signal))) {
          throw new MediagateError('too_large_to_scan', `clamd refused the stream as larger than its StreamMaxLength (it closed after ${sent} bytes)`, { vendorCode: 'StreamMaxLength', cause: err })
        }
        throw err
      })
      .then((reply) => this.verdict(reply))
  }

  /**
   * Whether clamd refuses a stream of `bytes` at once. clamd checks each chunk's declared length
   * against what is left of its StreamMaxLength before it reads the chunk, so a bare header is
   * enough: a refusal comes back at once, a length it accepts leaves it waiting for the bytes.
   */
  private async refusesLength(bytes: number, signal: AbortSignal | undefined): Promise<boolean> {
    const header = Buffer.allocUnsafe(4)
    header.writeUInt32BE(Math.min(bytes, 0xffffffff), 0)
    try {
      const reply = await this.session('zINSTREAM', signal, (socket) => write(socket, header), Math.min(this.options.timeoutMs, REFUSAL_WAIT_MS))
      return isSizeRefusal(reply)
    } catch {
      return false
    }
  }

  private verdict(reply: string): ScanVerdict {
    if (/^stream: OK$/.test(reply)) return { infected: false }
    const found = /^stream: (.+) FOUND$/.exec(reply)
    if (found) return { infected: true, signature: found[1]! }
    if (isSizeRefusal(reply)) {
      throw new MediagateError('too_large_to_scan', `clamd refused the stream as larger than its StreamMaxLength ("${reply}")`, { vendorCode: 'StreamMaxLength' })
    }
    throw this.vendorError(`answered the scan with "${reply}"`, reply)
  }

  private command(name: string, signal?: AbortSignal): Promise<string> {
    return this.session(name, signal, async () => {})
  }

  /**
   * Opens a connection, sends `z<COMMAND>\0`, runs `send` for what follows, and resolves with the
   * reply (up to its NUL). A reply that comes before `send` is done (clamd refusing a stream
   * mid-way) wins over the write error the closed connection causes.
   */
  private session(
    name: string,
    signal: AbortSignal | undefined,
    send: (socket: Socket, answered: () => boolean) => Promise<void>,
    timeoutMs = this.options.timeoutMs,
  ): Promise<string> {
    const { address } = this.options
    return new Promise<string>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason)
        return
      }
      const socket = address.kind === 'tcp' ? connect({ host: address.host, port: address.port }) : connect({ path: address.path })
      const chunks: Buffer[] = []
      let length = 0
      let settled = false
      let sendError: unknown
      const finish = (err: unknown, reply?: string) => {
        if (settled) return
        settled = true
        signal?.removeEventListener('abort', onAbort)
        socket.destroy()
        if (err === undefined) resolve(reply!)
        else reject(err)
      }
      const onAbort = () => finish(signal?.reason ?? new MediagateError('scanner', 'the scan was aborted'))
      signal?.addEventListener('abort', onAbort, { once: true })
      socket.setTimeout(timeoutMs, () => finish(new MediagateError('scanner', `clamd at ${this.target} did not answer ${name} within ${timeoutMs} ms`, { vendorCode: 'timeout' })))
      socket.on('error', (err: NodeJS.ErrnoException) => {
        // A reply already read (clamd closing after an error answer) is the better explanation.
        const reply = replyOf(chunks)
        if (reply !== undefined) finish(undefined, reply)
        else if (sendError instanceof MediagateError) finish(sendError)
        else finish(new MediagateError('scanner', `clamd at ${this.target} failed during ${name}: ${err.code ?? err.message}`, { cause: err, vendorCode: err.code ?? 'socket' }))
      })
      socket.on('data', (data: Buffer) => {
        chunks.push(data)
        length += data.length
        const reply = replyOf(chunks)
        if (reply !== undefined) finish(undefined, reply)
        else if (length > LONGEST_REPLY) finish(new MediagateError('scanner', `clamd at ${this.target} sent an overlong reply to ${name}`, { vendorCode: 'protocol' }))
      })
      socket.on('end', () => {
        const reply = replyOf(chunks) ?? (length > 0 ? Buffer.concat(chunks).toString('utf8').trim() : undefined)
        if (reply !== undefined && reply !== '') finish(undefined, reply)
        else if (sendError instanceof MediagateError) finish(sendError)
        else finish(new MediagateError('scanner', `clamd at ${this.target} closed the connection without answering ${name}`, { vendorCode: 'closed' }))
      })
      socket.once('connect', () => {
        socket.write(`${name}\0`)
        send(socket, () => settled).then(
          () => {},
          (err: unknown) => {
            sendError = err
            // Our own refusal (oversize) or the body failing: give up on the scan at once.
            if (err instanceof MediagateError && err.code !== 'scanner') finish(err)
            else if (!(err instanceof MediagateError)) finish(err)
          },
        )
      })
    })
  }

  private vendorError(what: string, reply: string): MediagateError {
    return new MediagateError('scanner', `clamd at ${this.target} ${what}`, { vendorCode: reply.slice(0, 200) })
  }
}

/** clamd's answer to a stream over its StreamMaxLength (`INSTREAM size limit exceeded. ERROR`). */
function isSizeRefusal(reply: string): boolean {
  return /size limit exceeded/i.test(reply)
}

/** The connection went away under us (clamd closing, crashing or refusing): not an answer. */
function lostConnection(err: unknown): boolean {
  return err instanceof MediagateError && err.code === 'scanner' && typeof err.vendorCode === 'string' && ['EPIPE', 'ECONNRESET', 'closed'].includes(err.vendorCode)
}

/** The reply up to its NUL, once it is complete. */
function replyOf(chunks: Buffer[]): string | undefined {
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  const end = all.indexOf(0)
  return end < 0 ? undefined : all.subarray(0, end).toString('utf8').trim()
}

/** Writes, and waits for the socket to drain when its buffer is full (a closed socket rejects). */
function write(socket: Socket, data: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.reject(new MediagateError('scanner', 'the connection to clamd is closed', { vendorCode: 'closed' }))
  if (socket.write(data)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      socket.off('close', onClose)
      resolve()
    }
    const onClose = () => {
      socket.off('drain', onDrain)
      reject(new MediagateError('scanner', 'clamd closed the connection while the stream was being sent', { vendorCode: 'closed' }))
    }
    socket.once('drain', onDrain)
    socket.once('close', onClose)
  })
}
