import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { connectOptions, guardLookup, isLoopback, vetConnect } from '../helpers/loopback-only.js'

/**
 * The suite's safety net itself. Its refusals are checked on the pure functions, never by trying
 * a real connection to a non-loopback address.
 */
describe('loopback-only safety net', () => {
  it('classifies addresses', () => {
    for (const a of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true)
    for (const a of ['10.0.0.5', '169.254.169.254', '0.0.0.0', '192.168.1.1', '8.8.8.8', '::ffff:10.0.0.1', 'fe80::1']) expect(isLoopback(a)).toBe(false)
  })

  it('finds the options in every form of connect()', () => {
    const o = { host: '10.0.0.1', port: 1 }
    expect(connectOptions([[o, () => {}]])).toBe(o)
    expect(connectOptions([o])).toBe(o)
    expect(connectOptions([80, '10.0.0.1'])).toEqual({ port: 80, host: '10.0.0.1' })
  })

  it('refuses non-loopback IP literals and guards the lookup of names', () => {
    expect(vetConnect({ host: '10.255.255.1', port: 9 })?.code).toBe('ELOOPBACKONLY')
    expect(vetConnect({ host: '[::ffff:169.254.169.254]', port: 9 })?.code).toBe('ELOOPBACKONLY')
    expect(vetConnect({ host: '127.0.0.2', port: 9 })).toBeNull()
    const named: net.TcpNetConnectOpts = { host: 'meta.example', port: 443 }
    expect(vetConnect(named)).toBeNull()
    expect(typeof named.lookup).toBe('function')
  })

  it('turns a non-loopback answer of the resolver into an error', async () => {
    const guarded = guardLookup((_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '169.254.169.254', family: 4 }]))
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guarded('meta.example', { all: true }, (e) => resolve(e)))
    expect(err?.code).toBe('ELOOPBACKONLY')
    const ok = guardLookup((_h, _o, cb) => cb(null, '127.0.0.3', 4))
    expect(await new Promise((resolve) => ok('x', {}, (e, a) => resolve(e ?? a)))).toBe('127.0.0.3')
  })

  it('is installed under every test file', () => {
    expect(net.Socket.prototype.connect.name).toBe('patchedConnect')
  })

  it('lets loopback through', async () => {
    const server = net.createServer((s) => s.end()).listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    const port = (server.address() as net.AddressInfo).port
    await new Promise<void>((resolve, reject) =>
      net.connect({ host: '127.0.0.1', port }).once('connect', function (this: net.Socket) {
        this.destroy()
        resolve()
      }).once('error', reject),
    )
    server.close()
  })
})
