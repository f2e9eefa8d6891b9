/**
 * The clamd client against a real clamd on loopback (its own signature database), plus the
 * failures a real connection has: nothing listening, a server that never answers.
 */
import net from 'node:net'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseClamdAddress } from '../../src/scanning/clamd-address.js'
import { ClamdClient } from '../../src/scanning/clamd-client.js'
import { clamdAvailable, startClamd, type TestClamd } from '../helpers/clamd.js'

const INFECTED = Buffer.from('mediagate test malware: clamd-client suite\n')
const LIMIT = 1024 * 1024

describe('parseClamdAddress', () => {
  it('reads tcp://host:port and unix:/path', () => {
    expect(parseClamdAddress('tcp://127.0.0.1:3310')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3310 })
    expect(parseClamdAddress('tcp://[::1]:3310')).toEqual({ kind: 'tcp', host: '::1', port: 3310 })
    expect(parseClamdAddress('unix:/run/clamav/clamd.ctl')).toEqual({ kind: 'unix', path: '/run/clamav/clamd.ctl' })
  })

  it('refuses anything else with the reason', () => {
    for (const bad of ['http://127.0.0.1:3310', 'tcp://127.0.0.1', 'tcp://127.0.0.1:0', 'tcp://host:3310/path', 'unix:relative.ctl', '127.0.0.1:3310']) {
      expect(() => parseClamdAddress(bad), bad).toThrow(/tcp:\/\/|unix/)
    }
  })
})

describe.skipIf(!clamdAvailable())('ClamdClient against a real clamd', () => {
  let clamd: TestClamd
  let client: ClamdClient

  beforeAll(async () => {
    clamd = await startClamd({ signatures: [{ name: 'Mediagate.Test.ClientSuite', bytes: INFECTED }], streamMaxBytes: LIMIT })
    client = new ClamdClient({ address: parseClamdAddress(clamd.url), timeoutMs: 5000, streamMaxBytes: 10 * LIMIT, chunkBytes: 16 * 1024 })
  }, 90_000)

  afterAll(async () => {
    await clamd?.close()
  })

  it('answers PING and VERSION', async () => {
    await expect(client.ping()).resolves.toBeUndefined()
    expect(await client.version()).toMatch(/^ClamAV \d+\.\d+/)
  })

  it('finds clean bytes clean, in many chunks', async () => {
    const body = Readable.from([Buffer.alloc(200_000, 7), Buffer.from('more')])
    expect(await client.scan(body)).toEqual({ infected: false })
  })

  it('finds the signature in infected bytes, whatever the chunking', async () => {
    expect(await client.scan(Readable.from([INFECTED]))).toEqual({ infected: true, signature: 'Mediagate.Test.ClientSuite.UNOFFICIAL' })
    const bytes = [...INFECTED].map((b) => Buffer.from([b]))
    expect(await client.scan(Readable.from(bytes))).toMatchObject({ infected: true })
  })

  it("maps clamd's StreamMaxLength refusal to too_large_to_scan", async () => {
    const err = await client.scan(Readable.from([Buffer.alloc(LIMIT + 100_000, 1)])).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'too_large_to_scan', vendorCode: 'StreamMaxLength' })
  })

  it("finds clamd's refusal when the answer is lost with the connection (EPIPE racing the reply)", async () => {
    // A relay that resets our side the moment clamd answers the first stream, before we read it.
    const relay = await startRelay(clamd.port, (n) => n === 1)
    try {
      const viaRelay = new ClamdClient({ address: { kind: 'tcp', host: '127.0.0.1', port: relay.port }, timeoutMs: 5000, streamMaxBytes: 10 * LIMIT, chunkBytes: 16 * 1024 })
      const err = await viaRelay.scan(Readable.from([Buffer.alloc(LIMIT + 100_000, 1)])).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'too_large_to_scan', vendorCode: 'StreamMaxLength' })
      expect(relay.connections()).toBe(2)
    } finally {
      await relay.close()
    }
  })

  it('keeps a connection lost under the limit a retryable scanner error', async () => {
    const relay = await startRelay(clamd.port, (n) => n === 1, 100_000)
    try {
      const viaRelay = new ClamdClient({ address: { kind: 'tcp', host: '127.0.0.1', port: relay.port }, timeoutMs: 5000, streamMaxBytes: 10 * LIMIT, chunkBytes: 16 * 1024 })
      const err = await viaRelay.scan(Readable.from([Buffer.alloc(LIMIT / 2, 1)])).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'scanner', retryable: true })
      expect((err as { vendorCode: string }).vendorCode).toMatch(/^(EPIPE|ECONNRESET|closed)$/)
    } finally {
      await relay.close()
    }
  }, 15_000)

  it('refuses to send more than its own limit', async () => {
    const small = new ClamdClient({ address: parseClamdAddress(clamd.url), timeoutMs: 5000, streamMaxBytes: 1000 })
    await expect(small.scan(Readable.from([Buffer.alloc(5000)]))).rejects.toMatchObject({ code: 'too_large_to_scan' })
    // The connection was given up cleanly: the same client scans again.
    expect(await small.scan(Readable.from([Buffer.from('ok')]))).toEqual({ infected: false })
  })
})

describe('ClamdClient when clamd is not there', () => {
  it('maps a refused connection to scanner (retryable) with the cause', async () => {
    const server = net.createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as net.AddressInfo).port
    await new Promise((r) => server.close(r))
    const client = new ClamdClient({ address: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 2000, streamMaxBytes: 1000 })
    const err = await client.ping().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'scanner', retryable: true, vendorCode: 'ECONNREFUSED' })
    expect((err as Error).cause).toBeInstanceOf(Error)
  })

  it('times out a clamd that accepts and never answers', async () => {
    const sockets: net.Socket[] = []
    const server = net.createServer((s) => sockets.push(s))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as net.AddressInfo).port
    try {
      const client = new ClamdClient({ address: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 200, streamMaxBytes: 1000 })
      await expect(client.scan(Readable.from([Buffer.from('abc')]))).rejects.toMatchObject({ code: 'scanner', vendorCode: 'timeout' })
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    }
  })

  it('reads a unix socket address the same way (nothing there: scanner)', async () => {
    const client = new ClamdClient({ address: { kind: 'unix', path: '/nonexistent/clamd.ctl' }, timeoutMs: 500, streamMaxBytes: 1000 })
    await expect(client.ping()).rejects.toMatchObject({ code: 'scanner', vendorCode: 'ENOENT' })
  })
})

/**
 * A loopback TCP relay to clamd. For the connections `drop` picks (numbered from 1) it resets our
 * side when clamd answers, or once `resetAfterBytes` have gone upstream, so the answer is lost.
 */
async function startRelay(upstreamPort: number, drop: (n: number) => boolean, resetAfterBytes?: number) {
  let count = 0
  const open = new Set<net.Socket>()
  const server = net.createServer((ours) => {
    const n = ++count
    const upstream = net.connect(upstreamPort, '127.0.0.1')
    open.add(ours).add(upstream)
    const lose = drop(n)
    let forwarded = 0
    ours.on('data', (data) => {
      forwarded += data.length
      if (lose && resetAfterBytes !== undefined && forwarded > resetAfterBytes) {
        ours.resetAndDestroy()
        upstream.destroy()
        return
      }
      upstream.write(data)
    })
    upstream.on('data', (data) => {
      if (lose) {
        ours.resetAndDestroy()
        upstream.destroy()
      } else ours.write(data)
    })
    upstream.on('end', () => ours.end())
    ours.on('error', () => upstream.destroy())
    upstream.on('error', () => ours.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}
