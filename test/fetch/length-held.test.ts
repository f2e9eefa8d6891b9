/**
 * The Fetcher's response bodies are held to their Content-Length in the stream they come in
 * (fetch-errors.ts guardBody, body.ts lengthHeld), so the transfer pipeline adds no stream of its
 * own for that (sniffed-source.ts). Over HTTP/1.1 undici already stops at Content-Length; the
 * stream itself is exercised here with bodies that have fewer or more bytes than announced.
 */
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { guardBody } from '../../src/fetch/fetch-errors.js'
import { MediagateError } from '../../src/errors.js'
import { Fetcher, readBody, readWhole } from '../../src/fetch/index.js'
import { startServer, type TestServer } from './test-server.js'

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const url = new URL('https://scontent.xx.fbcdn.net/v/x.jpg')

describe('a guarded body with an announced length', () => {
  it('passes exactly the announced bytes', async () => {
    const bytes = Buffer.alloc(3000, 1)
    expect(await readAll(guardBody(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), url, undefined, 3000))).toEqual(bytes)
  })

  it('fails with network when the body ends short of it', async () => {
    await expect(readAll(guardBody(Readable.from([Buffer.alloc(1000)]), url, undefined, 3000))).rejects.toMatchObject({ code: 'network' })
  })

  it('fails with integrity when the body goes past it', async () => {
    await expect(readAll(guardBody(Readable.from([Buffer.alloc(2000), Buffer.alloc(2000)]), url, undefined, 3000))).rejects.toMatchObject({ code: 'integrity' })
  })
})

describe('a guarded body read whole', () => {
  it('is the announced bytes in one buffer, however it was chunked', async () => {
    const bytes = Buffer.from('0123456789'.repeat(300))
    expect(await readWhole(guardBody(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), url, undefined, 3000), 3000)).toEqual(bytes)
    expect(await readWhole(guardBody(Readable.from([bytes]), url, undefined, 3000), 3000)).toEqual(bytes)
    expect(await readWhole(guardBody(Readable.from([]), url, undefined, 0), 0)).toHaveLength(0)
  })

  it('fails as the stream does: network when short, integrity when longer', async () => {
    await expect(readWhole(guardBody(Readable.from([Buffer.alloc(1000)]), url, undefined, 3000), 3000)).rejects.toMatchObject({ code: 'network' })
    await expect(readWhole(guardBody(Readable.from([Buffer.alloc(2000), Buffer.alloc(2000)]), url, undefined, 3000), 3000)).rejects.toMatchObject({ code: 'integrity' })
    // A stream nothing held to the length fails the same.
    await expect(readWhole(Readable.from([Buffer.alloc(1000)]), 3000)).rejects.toMatchObject({ code: 'network' })
    await expect(readWhole(Readable.from([Buffer.alloc(2000), Buffer.alloc(2000)]), 3000)).rejects.toMatchObject({ code: 'integrity' })
  })
})

describe('Fetcher responses', () => {
  let server: TestServer
  let fetcher: Fetcher
  beforeAll(async () => {
    server = await startServer('127.0.0.1', (req, res) => {
      if (req.url === '/stall') {
        // Half the announced body, then silence until the client gives up.
        res.writeHead(200, { 'content-length': '100000' })
        res.write(Buffer.alloc(50_000))
        return
      }
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100000' })
        res.write(Buffer.alloc(50_000), () => res.destroy())
        return
      }
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': String(8 * 1024 * 1024) })
        res.end(Buffer.alloc(8 * 1024 * 1024, 7))
        return
      }
      if (req.url === '/chunked') {
        res.writeHead(200)
        res.end('no length announced')
        return
      }
      res.writeHead(200, { 'content-length': '5' })
      res.end(req.method === 'HEAD' ? undefined : 'hello')
    })
    fetcher = new Fetcher({ allowedHosts: ['127.0.0.1'], userAgent: 'mediagate-test' })
  })
  afterAll(async () => {
    await fetcher?.close()
    await server?.close()
  })

  it('say their body is held to its Content-Length, and read whole', async () => {
    const res = await fetcher.get({ url: `${server.url}/media` })
    expect(res.lengthHeld).toBe(true)
    expect((await readBody(res, 1024)).toString()).toBe('hello')
  })

  it('read whole: an abort mid-body rejects with its reason, a connection cut mid-body with network', async () => {
    const controller = new AbortController()
    const stalled = await fetcher.get({ url: `${server.url}/stall`, signal: controller.signal })
    const reading = readWhole(stalled.body, 100_000)
    setTimeout(() => controller.abort(new MediagateError('conflict', 'lease lost')), 50)
    await expect(reading).rejects.toMatchObject({ code: 'conflict', message: 'lease lost' })
    const cut = await fetcher.get({ url: `${server.url}/cut` })
    await expect(readWhole(cut.body, 100_000)).rejects.toMatchObject({ code: 'network' })
  })

  it('hold back the connection while nobody reads, and give every byte once read', async () => {
    const res = await fetcher.get({ url: `${server.url}/big` })
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Paused at the stream's high-water mark (plus a socket read or two), not the whole 8 MiB.
    expect(res.body.readableLength).toBeLessThan(1024 * 1024)
    const bytes = await readBody(res, 16 * 1024 * 1024)
    expect(bytes.length).toBe(8 * 1024 * 1024)
    expect(bytes.every((b) => b === 7)).toBe(true)
  })

  it('do not hold a HEAD answer, or a body without Content-Length, to a length', async () => {
    const head = await fetcher.get({ url: `${server.url}/media`, method: 'HEAD' })
    expect(head.contentLength).toBe(5)
    expect(head.lengthHeld).toBeUndefined()
    expect(await readBody(head, 1024)).toHaveLength(0)
    const chunked = await fetcher.get({ url: `${server.url}/chunked` })
    expect(chunked.lengthHeld).toBeUndefined()
    expect((await readBody(chunked, 1024)).toString()).toBe('no length announced')
  })
})
