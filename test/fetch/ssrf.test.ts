import diagnostics from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MediagateError } from '../../src/errors.js'
import { Fetcher, type FetcherOptions } from '../../src/fetch/index.js'
import { createGuardedConnector } from '../../src/fetch/guarded-connector.js'
import { HostPolicy } from '../../src/fetch/host-policy.js'
import { readBody } from '../../src/fetch/body.js'
import { startServer, type TestServer } from './test-server.js'
import { stubLookup } from './stub-lookup.js'

const UA = 'mediagate-test/1.0'

async function refusal(p: Promise<unknown>): Promise<MediagateError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(MediagateError)
  return err as MediagateError
}

let local: TestServer
let local2: TestServer
let fetchers: Fetcher[] = []
let connected = 0
const onConnected = () => {
  connected++
}

function fetcher(o: Partial<FetcherOptions> & Pick<FetcherOptions, 'allowedHosts'>): Fetcher {
  const f = new Fetcher({ userAgent: UA, lookup: stubLookup({}), ...o })
  fetchers.push(f)
  return f
}

beforeAll(async () => {
  local = await startServer('127.0.0.1', (_req, res) => res.end('hello'))
  local2 = await startServer('127.0.0.2', (_req, res) => res.end('two'))
  diagnostics.subscribe('undici:client:connected', onConnected)
})
afterAll(async () => {
  diagnostics.unsubscribe('undici:client:connected', onConnected)
  await Promise.all([local.close(), local2.close()])
})
beforeEach(() => {
  connected = 0
})
afterEach(async () => {
  await Promise.all(fetchers.map((f) => f.close()))
  fetchers = []
})

describe('scheme and host rules', () => {
  it('fetches from an explicitly listed loopback host over http and sends the User-Agent', async () => {
    const res = await fetcher({ allowedHosts: ['127.0.0.1'] }).get({ url: `${local.url}/a?x=1` })
    expect(res.status).toBe(200)
    expect(res.contentLength).toBe(5)
    expect(res.url).toBe(`${local.url}/a?x=1`)
    expect((await readBody(res, 100)).toString()).toBe('hello')
    expect(local.requests.at(-1)?.headers['user-agent']).toBe(UA)
    expect(connected).toBeGreaterThan(0) // the connection counter the refusal tests rely on works
  })

  it('admits an explicitly listed single-label name and its loopback address', async () => {
    const lookup = stubLookup({ localhost: '127.0.0.1' })
    const res = await fetcher({ allowedHosts: ['localhost'], lookup }).get({ url: `http://localhost:${local.port}/` })
    expect(res.status).toBe(200)
    await readBody(res, 100)
    expect(lookup.calls).toEqual(['localhost'])
  })

  it('refuses plain http to a suffix-matched host, and every other scheme', async () => {
    const lookup = stubLookup({ 'cdn.fbcdn.net': '127.0.0.1' })
    const f = fetcher({ allowedHosts: ['fbcdn.net'], lookup })
    const before = local.connections
    for (const url of [`http://cdn.fbcdn.net:${local.port}/`, 'ftp://cdn.fbcdn.net/x', 'file:///etc/passwd', 'ws://cdn.fbcdn.net/', 'data:text/plain,hi']) {
      const err = await refusal(f.get({ url }))
      expect(err.code, url).toBe('host_not_allowed')
    }
    expect(lookup.calls).toEqual([])
    expect(local.connections).toBe(before)
  })

  it('refuses hosts that are not listed, before resolving them', async () => {
    const lookup = stubLookup({ 'evilfbcdn.net': '8.8.8.8', 'fbcdn.net.evil.com': '8.8.8.8' })
    const f = fetcher({ allowedHosts: ['fbcdn.net'], lookup })
    for (const url of ['https://evilfbcdn.net/x', 'https://fbcdn.net.evil.com/x', 'https://example.com/', 'not a url', 'https://user:pw@x.fbcdn.net/']) {
      const err = await refusal(f.get({ url }))
      expect(err.code, url).toBe('host_not_allowed')
    }
    expect(lookup.calls).toEqual([])
  })

  it('an unlisted loopback address such as 127.0.0.2 is refused; listing it admits it', async () => {
    const before = local2.connections
    const err = await refusal(fetcher({ allowedHosts: ['127.0.0.1'] }).get({ url: `${local2.url}/` }))
    expect(err.code).toBe('host_not_allowed')
    expect(local2.connections).toBe(before)
    const res = await fetcher({ allowedHosts: ['127.0.0.2'] }).get({ url: `${local2.url}/` })
    expect((await readBody(res, 100)).toString()).toBe('two')
  })
})

describe('IP literals in URLs', () => {
  it.each([
    'http://10.0.0.5/',
    'https://10.0.0.5/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::1]/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://0.0.0.0/',
    'http://[fe80::1]/',
  ])('refuses %s without resolving or connecting', async (url) => {
    const lookup = stubLookup({})
    const err = await refusal(fetcher({ allowedHosts: ['fbcdn.net', 'fbsbx.com'], lookup }).get({ url }))
    expect(err.code).toBe('host_not_allowed')
    expect(lookup.calls).toEqual([])
    expect(connected).toBe(0)
  })

  it('the decimal form of an explicitly listed address is the same host', async () => {
    const res = await fetcher({ allowedHosts: ['127.0.0.1'] }).get({ url: `http://2130706433:${local.port}/` })
    expect(res.status).toBe(200)
    await readBody(res, 100)
  })
})

describe('address check at connect time', () => {
  it.each([
    ['10.0.0.5'],
    ['172.16.3.4'],
    ['192.168.0.1'],
    ['169.254.169.254'],
    ['::ffff:10.0.0.1'],
    ['::ffff:169.254.169.254'],
    ['0.0.0.0'],
    ['fe80::1'],
    ['fc00::1'],
    ['224.0.0.1'],
    ['100.64.0.1'],
    ['255.255.255.255'],
    ['::'],
    // IPv4-compatible (::/96) and NAT64 forms of loopback and the metadata address.
    ['::7f00:1'],
    ['::a9fe:a9fe'],
    ['::a00:5'],
    ['64:ff9b::7f00:1'],
    ['64:ff9b::a9fe:a9fe'],
    ['64:ff9b::c0a8:1'],
    ['64:ff9b:1::808:808'],
  ])('a public-looking allowed name resolving to %s is refused before any connection', async (address) => {
    // The check runs on the answer the connection itself got (one lookup, no earlier resolution
    // that a DNS rebinding could change), and no socket ever connects.
    const lookup = stubLookup({ 'scontent.xx.fbcdn.net': address })
    const err = await refusal(fetcher({ allowedHosts: ['fbcdn.net'], lookup }).get({ url: 'https://scontent.xx.fbcdn.net/v/t1/x.jpg?oh=sig&oe=abc' }))
    expect(err.code).toBe('address_refused')
    expect(err.message).toContain(address)
    expect(err.message).not.toContain('oh=sig')
    expect(lookup.calls).toEqual(['scontent.xx.fbcdn.net'])
    expect(connected).toBe(0)
  })

  it.each(['127.0.0.1', '::ffff:127.0.0.1', '127.0.0.2'])(
    'a name resolving to the loopback address %s of a live server is refused; the server sees no connection',
    async (address) => {
      const target = address === '127.0.0.2' ? local2 : local
      const before = target.connections
      const lookup = stubLookup({ 'lookaside.fbsbx.com': address })
      const f = fetcher({ allowedHosts: ['fbsbx.com'], lookup })
      const err = await refusal(f.get({ url: `https://lookaside.fbsbx.com:${target.port}/whatsapp_business/attachments/?mid=1&hash=secret` }))
      expect(err.code).toBe('address_refused')
      expect(err.message).not.toContain('secret')
      expect(target.connections).toBe(before)
      expect(connected).toBe(0)
    },
  )

  it('a name resolving to a mix of public and private addresses is refused as a whole', async () => {
    const lookup = stubLookup({ 'cdn.fbsbx.com': ['8.8.8.8', '192.168.1.10'] })
    const err = await refusal(fetcher({ allowedHosts: ['fbsbx.com'], lookup }).get({ url: 'https://cdn.fbsbx.com/x' }))
    expect(err.code).toBe('address_refused')
    expect(connected).toBe(0)
  })
})

describe('the guarded connector', () => {
  const policy = new HostPolicy(['127.0.0.1', 'fbcdn.net'])

  function connect(hostname: string, port: number): Promise<{ err: Error | null; lookups: number }> {
    const lookup = stubLookup({})
    const connector = createGuardedConnector({ policy, lookup, connectTimeoutMs: 1000 })
    return new Promise((resolve) => {
      connector({ hostname, protocol: 'http:', port: String(port) }, (err, socket) => {
        socket?.destroy()
        resolve({ err, lookups: lookup.calls.length })
      })
    })
  }

  it.each(['10.0.0.5', '169.254.169.254', '[::ffff:a9fe:a9fe]', '::1', '127.0.0.2', '[::7f00:1]', '[::a9fe:a9fe]', '[64:ff9b::a9fe:a9fe]'])('refuses the IP literal %s that never reaches lookup', async (host) => {
    const before = local2.connections
    const { err, lookups } = await connect(host, host === '127.0.0.2' ? local2.port : 9)
    expect(err).toBeInstanceOf(MediagateError)
    expect((err as MediagateError).code).toBe('address_refused')
    expect(lookups).toBe(0)
    expect(local2.connections).toBe(before)
  })

  it('connects to an explicitly listed IP literal', async () => {
    const before = local.connections
    const { err } = await connect('127.0.0.1', local.port)
    expect(err).toBeNull()
    await expect.poll(() => local.connections).toBe(before + 1)
  })
})
