/**
 * An HTTP/1.1 client on a bare socket, for what fetch cannot do: stop reading after the headers
 * (the kernel's buffers fill, the server's writes stop), read at a chosen pace, or send half a
 * request. Every wait is bounded.
 */
import net from 'node:net'

export interface RawResponse {
  socket: net.Socket
  status: number
  headers: Record<string, string>
  /** Body bytes that arrived together with the headers. */
  early: Buffer
}

function connect(base: string): net.Socket {
  const url = new URL(base)
  return net.connect({ host: url.hostname, port: Number(url.port) })
}

/** Sends a GET and reads up to the end of the response headers; then stops reading (the socket is paused). */
export function rawGet(base: string, path: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<RawResponse> {
  const socket = connect(base)
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${new URL(base).host}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0)
    const timer = setTimeout(() => fail(new Error(`no response headers within ${timeoutMs} ms`)), timeoutMs)
    const fail = (err: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    }
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      const end = data.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.pause()
      socket.off('data', onData)
      socket.off('error', fail)
      clearTimeout(timer)
      const [statusLine, ...headerLines] = data.subarray(0, end).toString('latin1').split('\r\n')
      const found: Record<string, string> = {}
      for (const line of headerLines) {
        const colon = line.indexOf(':')
        found[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      // Errors after this point are the reader's to see (readBody), not unhandled.
      socket.on('error', () => {})
      resolve({ socket, status: Number(statusLine!.split(' ')[1]), headers: found, early: data.subarray(end + 4) })
    }
    socket.on('data', onData)
    socket.once('error', fail)
  })
}

export interface ReadOptions {
  /** Stop reading for `pauseMs` after every `pauseEveryBytes` bytes (a slow reader). */
  pauseEveryBytes?: number
  pauseMs?: number
}

/**
 * Reads the body on: until `length` bytes arrived in all (`complete`), the connection ended
 * first (`closed`), or `timeoutMs` passed (neither).
 */
export function readBody(r: RawResponse, length: number, timeoutMs: number, options: ReadOptions = {}): Promise<{ body: Buffer; complete: boolean; closed: boolean }> {
  const { socket } = r
  const parts: Buffer[] = [r.early]
  let got = r.early.length
  let sincePause = 0
  return new Promise((resolve) => {
    const finish = (closed: boolean) => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.destroy()
      const body = Buffer.concat(parts)
      resolve({ body, complete: body.length >= length, closed })
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    const onClose = () => finish(true)
    const onData = (chunk: Buffer) => {
      parts.push(chunk)
      got += chunk.length
      sincePause += chunk.length
      if (got >= length) return finish(false)
      if (options.pauseEveryBytes && sincePause >= options.pauseEveryBytes) {
        sincePause = 0
        socket.pause()
        setTimeout(() => socket.resume(), options.pauseMs ?? 100)
      }
    }
    if (got >= length) return finish(false)
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.resume()
  })
}

/** Sends `text` as is and collects what comes back until the server closes, or `timeoutMs` passes. */
export function rawExchange(base: string, text: string, timeoutMs: number): Promise<{ received: string; closed: boolean; afterMs: number }> {
  const socket = connect(base)
  const started = Date.now()
  socket.write(text)
  return new Promise((resolve) => {
    let received = ''
    const finish = (closed: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ received, closed, afterMs: Date.now() - started })
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    socket.on('error', () => {})
    socket.once('close', () => finish(true))
  })
}
