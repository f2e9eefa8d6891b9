/**
 * `mediagate serve` with no Meta configuration: sandbox mode starts the emulator, says so,
 * prints how to send a sample and where to fetch it, and the printed commands work.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type ChildGateway, startChildGateway } from '../helpers/child-gateway.js'

let dataDir: string
let gw: ChildGateway
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-sandbox-'))
  gw = await startChildGateway({ MEDIAGATE_DATA_DIR: dataDir })
})
afterAll(async () => {
  await gw?.kill('SIGTERM')
  await rm(dataDir, { recursive: true, force: true })
})

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('sandbox mode', () => {
  it('says loudly that it runs against the emulator, on loopback', async () => {
    const banner = await waitFor(async () => (gw.output().includes('SANDBOX MODE') && gw.output().includes('API key:') ? gw.output() : undefined))
    expect(banner).toContain('built-in Meta')
    expect(new URL(gw.url).hostname).toBe('127.0.0.1')
  })

  it('captures the sample WhatsApp and Messenger messages it tells you to send', async () => {
    const out = gw.output()
    const emulatorUrl = /emulator:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!
    const apiKey = /API key:\s+(\S+)/.exec(out)![1]!
    expect(out).toContain(`${emulatorUrl}/_emulator/send`)
    for (const [platform, kind] of [
      ['whatsapp', 'image'],
      ['messenger', 'video'],
    ]) {
      const sent = await fetch(`${emulatorUrl}/_emulator/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ platform, kind, target: `${gw.url}/webhooks/meta` }),
      })
      const result = (await sent.json()) as { message_id: string; status: number }
      expect(result.status).toBe(200)
      const record = await waitFor(async () => {
        const res = await fetch(`${gw.url}/v1/media?message_id=${encodeURIComponent(result.message_id)}`, { headers: { authorization: `Bearer ${apiKey}` } })
        const [m] = ((await res.json()) as { data: MediaJson[] }).data
        return m && m.status !== 'pending' ? m : undefined
      })
      expect(record).toMatchObject({ platform, kind, status: 'stored' })
      const content = await fetch(`${gw.url}/v1/media/${record.id}/content`, { headers: { authorization: `Bearer ${apiKey}` } })
      expect(content.status).toBe(200)
      expect(Number(content.headers.get('content-length'))).toBe(record.size)
    }
  })
})
