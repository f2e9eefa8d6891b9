/**
 * PostgreSQL goes away under a running gateway: intake answers 503 (so Meta redelivers) instead
 * of acknowledging what it cannot record, readiness says so, and once the database is back the
 * redelivered webhook is recorded and captured. The outage is a TCP proxy we cut, on loopback.
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { type Harness, startHarness } from '../helpers/harness.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'

const available = await postgresAvailable()

/** A loopback TCP proxy to PostgreSQL that can be cut (all connections dropped) and restored. */
function startProxy(target: URL): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  let up = true
  const server = net.createServer((client) => {
    if (!up) return client.destroy()
    const upstream = net.connect({ host: target.hostname, port: Number(target.port || 5432) })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {})
    }
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        cut() {
          up = false
          for (const s of sockets) s.destroy()
        },
        restore() {
          up = true
        },
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  )
}

describe.skipIf(!available)('PostgreSQL outage', () => {
  let schema: TestSchema
  let proxy: Awaited<ReturnType<typeof startProxy>>
  let h: Harness

  beforeAll(async () => {
    schema = await createTestSchema('mg_outage')
    proxy = await startProxy(new URL(POSTGRES_URL))
    const url = new URL(schema.url)
    url.host = `127.0.0.1:${proxy.port}`
    h = await startHarness({ env: { MEDIAGATE_DATABASE_URL: url.toString() } })
  })
  afterAll(async () => {
    proxy?.restore()
    await h?.close()
    await proxy?.close()
    await schema?.drop()
  })

  it('answers 503 while the database is gone and records the redelivery after', { timeout: 60_000 }, async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(2000), mimeType: 'image/jpeg' })
    const payload = whatsappMessage({ wamid: 'wamid.outage', media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })

    proxy.cut()
    const refused = await h.postWebhook(payload)
    expect(refused.status).toBe(503)
    expect(await refused.json()).toMatchObject({ error: { code: 'catalog' } })
    const ready = await fetch(`${h.gateway.url}/readyz`)
    expect(ready.status).toBe(503)

    proxy.restore()
    let accepted = 0
    for (let i = 0; i < 50 && accepted !== 200; i++) {
      accepted = (await h.postWebhook(payload)).status
      if (accepted !== 200) await new Promise((r) => setTimeout(r, 200))
    }
    expect(accepted).toBe(200)
    const [record] = await h.mediaOf('wamid.outage')
    expect((await h.settled([record!.id]))[0]!.status).toBe('stored')
  })
})
