import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MediagateError } from '../../src/errors.js'
import { Fetcher, readBody } from '../../src/fetch/index.js'
import { startServer, type TestServer } from './test-server.js'
import { stubLookup } from './stub-lookup.js'

const TOKEN = 'EAAGtesttokenSECRET123'
let a: TestServer // 127.0.0.1: explicitly listed and a token host
let b: TestServer // 127.0.0.2: explicitly listed, not a token host
let fetcher: Fetcher
const lookup = stubLookup({ 'evil.fbcdn.net': '10.0.0.1' })

function redirect(res: import('node:http').ServerResponse, location: string, status = 302): void {
  res.writeHead(status, { location }).end()
}

beforeAll(async () => {
  b = await startServer('127.0.0.2', (req, res) => {
    if (req.url === '/to-a') return redirect(res, `${a.url}/final`)
    res.end('b')
  })
  a = await startServer('127.0.0.1', (req, res) => {
    const url = new URL(req.url ?? '/', a.url)
    const loop = /^\/loop\/(\d+)$/.exec(url.pathname)
    if (loop) return redirect(res, `/loop/${Number(loop[1]) + 1}`)
    switch (url.pathname) {
      case '/same': return redirect(res, '/final', 301)
      case '/relative/start': return redirect(res, 'next', 307)
      case '/relative/next': return redirect(res, '../final', 308)
      case '/cross': return redirect(res, `${b.url}/final?sig=abc`)
      case '/away-and-back': return redirect(res, `${b.url}/to-a`)
      case '/to-metadata': return redirect(res, 'http://169.254.169.254/latest/meta-data/')
      case '/to-private-name': return redirect(res, 'https://evil.fbcdn.net/x')
      case '/to-unlisted': return redirect(res, `http://127.0.0.3:${a.port}/final?token=${TOKEN}`)
      case '/to-http-name': return redirect(res, 'http://scontent.fbcdn.net/x?oh=SIGNATURE')
      case '/see-other': return redirect(res, '/final', 303)
      case '/no-location': res.writeHead(302).end('nowhere'); return
      default: res.end('final')
    }
  })
  fetcher = new Fetcher({ allowedHosts: ['127.0.0.1', '127.0.0.2', 'fbcdn.net'], userAgent: 'ua/1', maxRedirects: 3, lookup })
})
afterAll(async () => {
  await fetcher.close()
  await Promise.all([a.close(), b.close()])
})
afterEach(() => {
  a.requests.length = 0
  b.requests.length = 0
})

const withToken = { bearerToken: TOKEN, tokenHosts: ['127.0.0.1'] }

async function failure(p: Promise<unknown>): Promise<MediagateError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(MediagateError)
  return err as MediagateError
}

describe('the Bearer token', () => {
  it('goes to a token host, and stays on a same-origin redirect', async () => {
    const res = await fetcher.get({ url: `${a.url}/same`, ...withToken })
    expect(await readBody(res, 100)).toEqual(Buffer.from('final'))
    expect(res.url).toBe(`${a.url}/final`)
    expect(a.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
      ['/same', `Bearer ${TOKEN}`],
      ['/final', `Bearer ${TOKEN}`],
    ])
  })

  it('is dropped on a cross-host redirect; the receiving server never sees it', async () => {
    const res = await fetcher.get({ url: `${a.url}/cross`, bearerToken: TOKEN, tokenHosts: ['127.0.0.1', '127.0.0.2'] })
    expect(await readBody(res, 100)).toEqual(Buffer.from('b'))
    expect(a.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(b.requests).toHaveLength(1)
    expect(b.requests[0]?.headers.authorization).toBeUndefined()
    expect(b.requests[0]?.headers['user-agent']).toBe('ua/1')
  })

  it('stays dropped when a redirect chain comes back to the first host', async () => {
    const res = await fetcher.get({ url: `${a.url}/away-and-back`, ...withToken })
    await readBody(res, 100)
    expect(a.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
      ['/away-and-back', `Bearer ${TOKEN}`],
      ['/final', undefined],
    ])
  })

  it('is never sent to a host outside tokenHosts, nor without tokenHosts', async () => {
    await readBody(await fetcher.get({ url: `${b.url}/x`, ...withToken }), 100)
    await readBody(await fetcher.get({ url: `${a.url}/x`, bearerToken: TOKEN }), 100)
    expect(b.requests[0]?.headers.authorization).toBeUndefined()
    expect(a.requests[0]?.headers.authorization).toBeUndefined()
  })

  it('cannot be smuggled in through headers', async () => {
    await readBody(await fetcher.get({ url: `${b.url}/x`, headers: { Authorization: `Bearer ${TOKEN}`, Cookie: 'c=1', 'X-Extra': 'yes' } }), 100)
    expect(b.requests[0]?.headers.authorization).toBeUndefined()
    expect(b.requests[0]?.headers.cookie).toBeUndefined()
    expect(b.requests[0]?.headers['x-extra']).toBe('yes')
  })
})

describe('redirects', () => {
  it('follows relative Locations and keeps the range and method', async () => {
    const res = await fetcher.get({ url: `${a.url}/relative/start`, method: 'HEAD', range: { start: 2, end: 9 } })
    expect(res.status).toBe(200)
    expect(res.url).toBe(`${a.url}/final`)
    expect(a.requests.map((r) => [r.method, r.path, r.headers.range])).toEqual([
      ['HEAD', '/relative/start', 'bytes=2-9'],
      ['HEAD', '/relative/next', 'bytes=2-9'],
      ['HEAD', '/final', 'bytes=2-9'],
    ])
    res.body.destroy()
  })

  it('turns a DELETE into a GET after 303', async () => {
    const res = await fetcher.get({ url: `${a.url}/see-other`, method: 'DELETE' })
    await readBody(res, 100)
    expect(a.requests.map((r) => r.method)).toEqual(['DELETE', 'GET'])
  })

  it('hands a 3xx without Location to the caller', async () => {
    const res = await fetcher.get({ url: `${a.url}/no-location` })
    expect(res.status).toBe(302)
    expect((await readBody(res, 100)).toString()).toBe('nowhere')
  })

  it('follows exactly maxRedirects and refuses one more', async () => {
    expect((await failure(fetcher.get({ url: `${a.url}/loop/0` }))).code).toBe('too_many_redirects')
    expect(a.requests.map((r) => r.path)).toEqual(['/loop/0', '/loop/1', '/loop/2', '/loop/3'])

    const capped = new Fetcher({ allowedHosts: ['127.0.0.1'], userAgent: 'ua', maxRedirects: 0 })
    try {
      expect((await failure(capped.get({ url: `${a.url}/same` }))).code).toBe('too_many_redirects')
    } finally {
      await capped.close()
    }
    const res = await fetcher.get({ url: `${a.url}/relative/start` })
    expect(res.status).toBe(200)
    await readBody(res, 100)
  })

  it.each([
    ['/to-metadata', 'host_not_allowed'],
    ['/to-unlisted', 'host_not_allowed'],
    ['/to-http-name', 'host_not_allowed'],
    ['/to-private-name', 'address_refused'],
  ])('re-checks every hop: %s → %s', async (path, code) => {
    const err = await failure(fetcher.get({ url: `${a.url}${path}`, ...withToken }))
    expect(err.code).toBe(code)
    expect(err.message).not.toContain(TOKEN)
    expect(err.message).not.toContain('SIGNATURE')
    expect(a.requests).toHaveLength(1)
  })
})
