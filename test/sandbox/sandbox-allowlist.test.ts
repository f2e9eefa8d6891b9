/**
 * The sandbox downloads from its emulator and nothing else (issue 12, defect 11): a real Meta
 * payload replayed into it (WhatsApp with a lookaside `url`, Messenger and Instagram with CDN
 * URLs) is refused before any lookup or connection, so the sandbox's token never leaves for Meta.
 * The resolver is stubbed: a lookup of anything but loopback fails and is recorded.
 */
import diagnostics from 'node:diagnostics_channel'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { instagramMessage, messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import { signPayload } from '../../src/platforms/signature.js'
import { type Sandbox, startSandbox } from '../../src/sandbox/start-sandbox.js'
import type { MediaJson } from '../../src/serve/present-media.js'

const lookedUp = vi.hoisted(() => [] as string[])

vi.mock('node:dns', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:dns')>()
  type Callback = (err: NodeJS.ErrnoException | null, address?: unknown, family?: number) => void
  const lookup = (hostname: string, options: unknown, callback?: Callback) => {
    const cb = (typeof options === 'function' ? options : callback) as Callback
    lookedUp.push(hostname)
    if (hostname === 'localhost') return (actual.lookup as (h: string, o: unknown, c: Callback) => void)(hostname, options, cb)
    process.nextTick(() => cb(Object.assign(new Error(`stub resolver: ${hostname} is not resolved in this test`), { code: 'ENOTFOUND' })))
  }
  return { ...actual, lookup, default: { ...actual, lookup } }
})

/** Every host an undici client (the gateway's fetcher, or this test's fetch) set out to connect to. */
const dialled: string[] = []
const onBeforeConnect = (message: unknown) => {
  dialled.push((message as { connectParams: { hostname: string } }).connectParams.hostname)
}

let dataDir: string
let sandbox: Sandbox
let gateway: Gateway
let apiKey: string

beforeAll(async () => {
  diagnostics.subscribe('undici:client:beforeConnect', onBeforeConnect)
  dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-sandbox-allowlist-'))
  const config = loadConfig({ env: { MEDIAGATE_DATA_DIR: dataDir, MEDIAGATE_PORT: '0', MEDIAGATE_LOG_LEVEL: 'silent' } })
  expect(config.sandbox).toBe(true)
  sandbox = await startSandbox(config)
  gateway = await createGateway(sandbox.config, { retry: { baseDelayMs: 10, maxDelayMs: 100 }, pollMs: 50 })
  await gateway.start()
  apiKey = sandbox.config.apiKey!
})
afterAll(async () => {
  diagnostics.unsubscribe('undici:client:beforeConnect', onBeforeConnect)
  await gateway?.close()
  await sandbox?.emulator.close()
  await rm(dataDir, { recursive: true, force: true })
})

async function replay(payload: object): Promise<void> {
  const body = Buffer.from(JSON.stringify(payload))
  const res = await fetch(`${gateway.url}/webhooks/meta`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, sandbox.config.appSecrets[0]!) },
  })
  expect(res.status).toBe(200)
}

async function settled(messageId: string): Promise<MediaJson> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const res = await fetch(`${gateway.url}/v1/media?message_id=${encodeURIComponent(messageId)}`, { headers: { authorization: `Bearer ${apiKey}` } })
    const [m] = ((await res.json()) as { data: MediaJson[] }).data
    if (m && m.status !== 'pending') return m
    if (Date.now() > deadline) throw new Error(`${messageId} still ${m?.status ?? 'missing'} after 10 s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function expectNothingBeyondLoopback(): void {
  expect(lookedUp.filter((h) => h !== 'localhost')).toEqual([])
  expect(dialled.filter((h) => h !== '127.0.0.1')).toEqual([])
}

describe('sandbox mode downloads from the emulator alone', () => {
  it('its allowlist is the emulator host, whatever MEDIAGATE_ALLOWED_HOSTS says', () => {
    expect(sandbox.config.allowedHosts).toEqual([new URL(sandbox.emulator.url).hostname])
  })

  it('a Messenger and an Instagram payload with Meta CDN URLs fail host_not_allowed, never resolved or dialled', async () => {
    const mid = `m_replayed_${randomBytes(6).toString('hex')}`
    const igMid = `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE${randomBytes(6).toString('hex')}`
    await replay(messengerMessage({ mid, attachments: [{ type: 'image', url: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/123_456_n.jpg?_nc_cat=1&oh=00_abc&oe=6A0B1C2D' }] }))
    await replay(instagramMessage({ mid: igMid, attachments: [{ type: 'image', url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17890000000000000&signature=abc' }] }))
    for (const id of [mid, igMid]) {
      const record = await settled(id)
      expect(record.status).toBe('failed')
      expect(record.error?.code).toBe('host_not_allowed')
    }
    expectNothingBeyondLoopback()
  })

  it('a WhatsApp payload whose url is on lookaside.fbsbx.com is not fetched with the sandbox token; the id is resolved at the emulator', async () => {
    const bytes = randomBytes(3_000)
    const media = sandbox.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
    const wamid = `wamid.replayed${randomBytes(6).toString('hex')}`
    const url = `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=${media.id}&ext=1761000000&hash=ATu-real-looking`
    await replay(whatsappMessage({ wamid, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256, url } }))
    const record = await settled(wamid)
    expect(record.status, JSON.stringify(record.error)).toBe('stored')
    expect(record.size).toBe(bytes.length)
    expectNothingBeyondLoopback()
  })
})
