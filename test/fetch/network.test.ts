import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MediagateError } from '../../src/errors.js'
import { Fetcher, assertWithinLimit, readBody } from '../../src/fetch/index.js'
import { startServer, type TestServer } from './test-server.js'

let server: TestServer
let fetcher: Fetcher
const closed = new Map<string, Promise<void>>()

function trackClose(path: string, socket: Socket): void {
  closed.set(path, new Promise((resolve) => socket.once('close', () => resolve())))
}

beforeAll(async () => {
  server = await startServer('127.0.0.1', (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    trackClose(path, req.socket)
    switch (path) {
      case '/stall-body':
        res.writeHead(200, { 'content-length': '100' })
        res.write(Buffer.alloc(10))
        return // never finishes
      case '/stall-headers':
        return // never answers
      case '/reset':
        res.writeHead(200, { 'content-length': '1000' })
        res.write(Buffer.alloc(100), () => setTimeout(() => req.socket.resetAndDestroy(), 20))
        return
      case '/truncate':
        res.writeHead(200, { 'content-length': '1000' })
        res.write(Buffer.alloc(100), () => setTimeout(() => req.socket.end(), 20))
        return
      case '/huge':
        res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) })
        res.write(Buffer.alloc(1024))
        return // would send the rest only if read
      case '/large':
        res.writeHead(200, { 'content-length': String(4 * 1024 * 1024) })
        res.end(Buffer.alloc(4 * 1024 * 1024, 7))
        return
      case '/chunked':
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        res.write(Buffer.alloc(600))
        res.end(Buffer.alloc(600))
        return
      default:
        res.end('ok')
    }
  })
  fetcher = new Fetcher({ allowedHosts: ['127.0.0.1'], userAgent: 'ua', headersTimeoutMs: 300, bodyTimeoutMs: 200 })
})
afterAll(async () => {
  await fetcher.close()
  await server.close()
})

async function failure(p: Promise<unknown>): Promise<MediagateError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(MediagateError)
  return err as MediagateError
}

describe('network failures', () => {
  it('a stalled body times out as a network error on the stream', async () => {
    const res = await fetcher.get({ url: `${server.url}/stall-body?sig=SECRET` })
    const started = Date.now()
    const err = await failure(readBody(res, 1000))
    expect(err.code).toBe('network')
    expect(err.retryable).toBe(true)
    expect(err.cause).toBeDefined()
    expect(err.message).not.toContain('SECRET')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('missing response headers time out', async () => {
    const err = await failure(fetcher.get({ url: `${server.url}/stall-headers?token=SECRET` }))
    expect(err.code).toBe('network')
    expect(err.message).toContain('/stall-headers?…')
    expect(err.message).not.toContain('SECRET')
  })

  it('a reset mid-body errors the stream with network', async () => {
    const res = await fetcher.get({ url: `${server.url}/reset` })
    expect(res.status).toBe(200)
    const err = await failure(readBody(res, 10_000))
    expect(err.code).toBe('network')
  })

  it('a connection closed before Content-Length is reached errors the stream with network', async () => {
    const res = await fetcher.get({ url: `${server.url}/truncate` })
    const err = await failure(readBody(res, 10_000))
    expect(err.code).toBe('network')
  })

  it('a refused connection is a network error that keeps the cause', async () => {
    const gone = await startServer('127.0.0.1', (_q, r) => r.end())
    await gone.close()
    const err = await failure(fetcher.get({ url: `${gone.url}/x` }))
    expect(err.code).toBe('network')
    expect(err.message).toContain('ECONNREFUSED')
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })

  it('an abort rejects with the signal reason, not a network error', async () => {
    const controller = new AbortController()
    const reason = new MediagateError('conflict', 'lease lost')
    setTimeout(() => controller.abort(reason), 20)
    const err = await fetcher.get({ url: `${server.url}/stall-headers`, signal: controller.signal }).catch((e: unknown) => e)
    expect(err).toBe(reason)
  })
})

describe('size limits', () => {
  it('refuses an announced Content-Length over the limit and discards the connection unread', async () => {
    const res = await fetcher.get({ url: `${server.url}/huge` })
    expect(res.contentLength).toBe(50 * 1024 * 1024)
    const err = (() => {
      try {
        assertWithinLimit(res, 1024 * 1024)
      } catch (e) {
        return e as MediagateError
      }
      return undefined
    })()
    expect(err?.code).toBe('too_large')
    expect(res.body.destroyed).toBe(true)
    // The server sees its connection closed while it still had 50 MB to send.
    await closed.get('/huge')
  })

  it('readBody refuses early on Content-Length too', async () => {
    const res = await fetcher.get({ url: `${server.url}/huge` })
    expect((await failure(readBody(res, 4096))).code).toBe('too_large')
    await closed.get('/huge')
  })

  it('readBody counts bodies that announce no length', async () => {
    const small = await fetcher.get({ url: `${server.url}/chunked` })
    expect(small.contentLength).toBeUndefined()
    expect((await readBody(small, 1200)).length).toBe(1200)
    const big = await fetcher.get({ url: `${server.url}/chunked` })
    expect((await failure(readBody(big, 1000))).code).toBe('too_large')
  })

  it('an abort while the body is read errors it with the signal reason and closes the connection', async () => {
    // No body timeout to end it instead.
    const patient = new Fetcher({ allowedHosts: ['127.0.0.1'], userAgent: 'ua', bodyTimeoutMs: 60_000 })
    try {
      const controller = new AbortController()
      const reason = new MediagateError('conflict', 'lease lost')
      const res = await patient.get({ url: `${server.url}/stall-body`, signal: controller.signal })
      const ended = new Promise((resolve) => res.body.on('error', resolve))
      res.body.resume()
      controller.abort(reason)
      expect(await ended).toBe(reason)
      await closed.get('/stall-body')
    } finally {
      await patient.close()
    }
  })

  it('a body read more slowly than it arrives comes whole, the socket paused meanwhile', async () => {
    const res = await fetcher.get({ url: `${server.url}/large` })
    await new Promise((resolve) => setTimeout(resolve, 100))
    // Paused: no more than the body's buffer and the socket's were taken off the wire.
    expect(res.body.readableLength).toBeLessThanOrEqual(256 * 1024)
    let size = 0
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size % (512 * 1024) < chunk.length) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(size).toBe(4 * 1024 * 1024)
  })

  it('a consumer that destroys the body releases the connection', async () => {
    const res = await fetcher.get({ url: `${server.url}/stall-body` })
    res.body.destroy()
    await closed.get('/stall-body')
  })
})
