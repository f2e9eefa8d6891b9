/**
 * GraphMediaClient against a small Graph API speaking Meta's documented envelope, on loopback.
 * 127.0.0.1 plays Graph and the WhatsApp lookaside; 127.0.0.2 plays some other host.
 */
import { createHash } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MediagateError } from '../../src/errors.js'
import { Fetcher, readBody } from '../../src/fetch/index.js'
import { GraphMediaClient, normalizeSha256 } from '../../src/platforms/graph/index.js'
import { startServer, type TestServer } from '../fetch/test-server.js'

const TOKEN = 'EAAtesttoken0123456789SECRET'
const BYTES = Buffer.from('pretend this is a jpeg')
const HEX = createHash('sha256').update(BYTES).digest('hex')
const B64 = createHash('sha256').update(BYTES).digest('base64')

let graph: TestServer
let other: TestServer
let fetcher: Fetcher
let client: GraphMediaClient

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
}

function graphErr(res: ServerResponse, status: number, code: number, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  json(res, status, { error: { message: `(#${code}) emulated`, type: 'OAuthException', code, fbtrace_id: 'AbCdEfGh123', ...extra } }, headers)
}

beforeAll(async () => {
  other = await startServer('127.0.0.2', (_req, res) => res.end('elsewhere'))
  graph = await startServer('127.0.0.1', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return graphErr(res, 401, 190, { message: 'Invalid OAuth access token - Cannot parse access token' })
    const media = /^\/media\/(.+)$/.exec(url.pathname)?.[1]
    if (media !== undefined) {
      switch (media) {
        case 'ok': return void res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': BYTES.length }).end(BYTES)
        case 'big': res.writeHead(200, { 'content-length': String(200 * 1024 * 1024) }); return void res.write(Buffer.alloc(10))
        case 'away': return void res.writeHead(302, { location: `${other.url}/cdn/x?sig=1` }).end()
        case '429': return void res.writeHead(429, { 'retry-after': '3' }).end()
        default: return void res.writeHead(Number(media)).end()
      }
    }
    if (url.pathname === '/v26.0/me') return json(res, 200, { id: '1234', name: 'System User' })
    const id = /^\/v26\.0\/([^/]+)$/.exec(url.pathname)?.[1]
    const info = { messaging_product: 'whatsapp', url: `${graph.url}/media/ok?mid=${id}&hash=h`, mime_type: 'image/jpeg', id }
    if (req.method === 'DELETE') return id === 'gone' ? graphErr(res, 400, 100, { error_subcode: 33 }) : json(res, 200, { success: true })
    switch (id) {
      case 'hex-string': return json(res, 200, { ...info, sha256: HEX, file_size: String(BYTES.length) })
      case 'b64-number': return json(res, 200, { ...info, sha256: B64, file_size: BYTES.length })
      case 'phone': return json(res, 200, { ...info, sha256: HEX, file_size: url.searchParams.get('phone_number_id') })
      case 'no-url': return json(res, 200, { messaging_product: 'whatsapp', id, mime_type: 'image/jpeg' })
      case 'not-json': return void res.writeHead(200).end('<html>')
      case 'auth-0': return graphErr(res, 401, 0)
      case 'echo-token': return graphErr(res, 400, 190, { message: `Malformed access token ${TOKEN}` })
      case 'rate-4': return graphErr(res, 400, 4, {}, { 'retry-after': '7' })
      case 'rate-80007': return graphErr(res, 400, 80007, {}, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() })
      case 'rate-130429': return graphErr(res, 400, 130429)
      case 'http-429': return void res.writeHead(429, { 'retry-after': '2' }).end('slow down')
      case 'unknown': return graphErr(res, 400, 100, { error_subcode: 33, type: 'GraphMethodException' })
      case 'permission': return graphErr(res, 403, 10)
      case 'server': return graphErr(res, 500, 1)
      case 'bad-gateway': return void res.writeHead(502).end('<html>bad gateway</html>')
      default: return graphErr(res, 400, 100)
    }
  })
  fetcher = new Fetcher({ allowedHosts: ['127.0.0.1', '127.0.0.2', 'fbsbx.com'], userAgent: 'mediagate-test/1' })
  client = new GraphMediaClient({ graphUrl: graph.url, version: 'v26.0', accessToken: TOKEN, fetcher })
})
afterAll(async () => {
  await fetcher.close()
  await Promise.all([graph.close(), other.close()])
})
afterEach(() => {
  graph.requests.length = 0
  other.requests.length = 0
})

async function failure(p: Promise<unknown>): Promise<MediagateError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(MediagateError)
  expect((err as Error).message).not.toContain(TOKEN)
  return err as MediagateError
}

describe('lookup', () => {
  it('reads a hex sha256 and a string file_size, with the token and User-Agent', async () => {
    const info = await client.lookup('hex-string')
    expect(info).toEqual({ id: 'hex-string', url: `${graph.url}/media/ok?mid=hex-string&hash=h`, mimeType: 'image/jpeg', sha256: HEX, fileSize: BYTES.length })
    expect(graph.requests[0]).toMatchObject({ method: 'GET', path: '/v26.0/hex-string' })
    expect(graph.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(graph.requests[0]?.headers['user-agent']).toBe('mediagate-test/1')
  })

  it('reads a base64 sha256 and a numeric file_size', async () => {
    const info = await client.lookup('b64-number')
    expect(info.sha256).toBe(B64)
    expect(normalizeSha256(info.sha256)).toBe(HEX)
    expect(info.fileSize).toBe(BYTES.length)
  })

  it('passes phone_number_id when given', async () => {
    expect((await client.lookup('phone', { phoneNumberId: '777' })).fileSize).toBe(777)
    expect(graph.requests[0]?.path).toBe('/v26.0/phone?phone_number_id=777')
  })

  it.each([
    ['no-url', 'upstream', undefined],
    ['not-json', 'upstream', undefined],
    ['auth-0', 'auth', 0],
    ['echo-token', 'auth', 190],
    ['unknown', 'source_expired', 100],
    ['permission', 'source_rejected', 10],
    ['server', 'upstream', 1],
    ['bad-gateway', 'upstream', 502],
  ])('%s → %s', async (id, code, vendorCode) => {
    const err = await failure(client.lookup(id))
    expect(err.code).toBe(code)
    expect(err.vendorCode).toBe(vendorCode)
  })

  it.each([
    ['rate-4', 4, 7000],
    ['rate-130429', 130429, undefined],
    ['http-429', 429, 2000],
  ])('%s → rate_limited (vendor code %s, retryAfterMs %s)', async (id, vendorCode, retryAfterMs) => {
    const err = await failure(client.lookup(id))
    expect(err).toMatchObject({ code: 'rate_limited', vendorCode, retryAfterMs, retryable: true })
  })

  it('reads Retry-After as an HTTP date', async () => {
    const err = await failure(client.lookup('rate-80007'))
    expect(err.code).toBe('rate_limited')
    expect(err.retryAfterMs).toBeGreaterThan(50_000)
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000)
  })

  it('a wrong token is auth (HTTP 401, code 190)', async () => {
    const wrong = new GraphMediaClient({ graphUrl: graph.url, version: 'v26.0', accessToken: 'EAAwrongtoken0123456789', fetcher })
    const err = await failure(wrong.lookup('hex-string'))
    expect(err).toMatchObject({ code: 'auth', vendorCode: 190, retryable: false })
    expect(err.message).not.toContain('EAAwrongtoken0123456789')
  })

  it('refuses ids that would change the path, before any request', async () => {
    for (const id of ['../me', 'a/b', '', '..', 'x?y']) expect((await failure(client.lookup(id))).code).toBe('source_rejected')
    expect(graph.requests).toHaveLength(0)
  })
})

describe('download', () => {
  it('sends the token and User-Agent and hands back the body', async () => {
    const info = await client.lookup('hex-string')
    const res = await client.download(info.url, { maxBytes: 1000 })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('image/jpeg')
    expect(await readBody(res, 1000)).toEqual(BYTES)
    const dl = graph.requests.at(-1)
    expect(dl?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(dl?.headers['user-agent']).toBe('mediagate-test/1')
  })

  it('passes a byte range', async () => {
    const res = await client.download(`${graph.url}/media/ok`, { range: { start: 5 } })
    await readBody(res, 1000)
    expect(graph.requests[0]?.headers.range).toBe('bytes=5-')
  })

  it.each([401, 403, 404])('HTTP %i → source_expired, retryable, with the status as vendorCode', async (status) => {
    const err = await failure(client.download(`${graph.url}/media/${status}?hash=SIGNED`))
    expect(err).toMatchObject({ code: 'source_expired', retryable: true, vendorCode: status })
    expect(err.message).not.toContain('SIGNED')
  })

  it('maps 429 and 5xx', async () => {
    expect(await failure(client.download(`${graph.url}/media/429`))).toMatchObject({ code: 'rate_limited', retryAfterMs: 3000 })
    expect(await failure(client.download(`${graph.url}/media/503`))).toMatchObject({ code: 'upstream', vendorCode: 503 })
  })

  it('refuses an announced size over maxBytes as too_large', async () => {
    expect((await failure(client.download(`${graph.url}/media/big`, { maxBytes: 1024 }))).code).toBe('too_large')
  })

  it('never sends the token to another host, directly or through a redirect', async () => {
    const direct = await client.download(`${other.url}/cdn/y`)
    await readBody(direct, 100)
    const redirected = await client.download(`${graph.url}/media/away`)
    expect((await readBody(redirected, 100)).toString()).toBe('elsewhere')
    expect(graph.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(other.requests).toHaveLength(2)
    for (const r of other.requests) expect(r.headers.authorization).toBeUndefined()
  })

  it('refuses plain http to a Meta host, so the token never travels unencrypted', async () => {
    expect((await failure(client.download('http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1'))).code).toBe('host_not_allowed')
  })
})

describe('deleteMedia and me', () => {
  it('deletes, and maps an unknown id', async () => {
    await client.deleteMedia('123')
    expect(graph.requests[0]).toMatchObject({ method: 'DELETE', path: '/v26.0/123' })
    expect((await failure(client.deleteMedia('gone'))).code).toBe('source_expired')
  })

  it('checks the token', async () => {
    expect(await client.me()).toEqual({ id: '1234', name: 'System User' })
    expect(graph.requests[0]?.path).toBe('/v26.0/me?fields=id%2Cname')
  })
})

describe('configuration', () => {
  it('refuses a bad version, URL or empty token', () => {
    expect(() => new GraphMediaClient({ graphUrl: graph.url, version: '26', accessToken: TOKEN, fetcher })).toThrowError(expect.objectContaining({ code: 'invalid_config' }))
    expect(() => new GraphMediaClient({ graphUrl: 'nope', version: 'v26.0', accessToken: TOKEN, fetcher })).toThrowError(expect.objectContaining({ code: 'invalid_config' }))
    expect(() => new GraphMediaClient({ graphUrl: graph.url, version: 'v26.0', accessToken: '', fetcher })).toThrowError(expect.objectContaining({ code: 'invalid_config' }))
  })

  it('keeps a path prefix in graphUrl', async () => {
    const prefixed = new GraphMediaClient({ graphUrl: `${graph.url}/prefix/`, version: 'v26.0', accessToken: TOKEN, fetcher })
    await prefixed.lookup('hex-string').catch(() => undefined)
    expect(graph.requests[0]?.path).toBe('/prefix/v26.0/hex-string')
  })
})
