/**
 * Pending media survive a sandbox restart (issue 16): the real binary in sandbox mode, media held
 * pending by a stalled download, the sandbox stopped (gracefully, then killed), started again on
 * the same data directory: the emulator still knows those media, and the gateway stores them
 * with the emulator's exact bytes.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type ChildGateway, startChildGateway } from '../helpers/child-gateway.js'
import { until } from '../helpers/until.js'

let dataDir: string
const children: ChildGateway[] = []
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-sandbox-restart-'))
})
afterAll(async () => {
  for (const child of children) await child.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
}, 60_000)

interface Sandbox {
  gw: ChildGateway
  emulator: string
  auth: { authorization: string }
}

async function startSandbox(): Promise<Sandbox> {
  // Short leases, so the media a killed sandbox had claimed are taken again soon after the restart.
  const gw = await startChildGateway({ MEDIAGATE_DATA_DIR: dataDir, MEDIAGATE_LEASE_SECONDS: '5' })
  children.push(gw)
  const out = await until('the banner', () => (/API key:\s+\S+/.test(gw.output()) ? gw.output() : undefined), { timeoutMs: 45_000 })
  return { gw, emulator: /emulator:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!, auth: { authorization: `Bearer ${/API key:\s+(\S+)/.exec(out)![1]!}` } }
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return res.json()
}

/** Sends a WhatsApp and a Messenger sample whose downloads stall, and waits until both are stuck pending. */
async function sendStalled(s: Sandbox): Promise<{ message_id: string; media_id: string }[]> {
  await post(`${s.emulator}/_emulator/faults`, { media: '*', faults: { stallMs: 600_000 } })
  const sent: { message_id: string; media_id: string; status: number }[] = []
  for (const [platform, kind] of [
    ['whatsapp', 'image'],
    ['messenger', 'file'],
  ]) {
    sent.push(await post(`${s.emulator}/_emulator/send`, { platform, kind, target: `${s.gw.url}/webhooks/meta` }))
  }
  expect(sent.map((m) => m.status)).toEqual([200, 200])
  await until('both downloads to start and stall', async () => {
    const stats = (await (await fetch(`${s.emulator}/_emulator/stats`)).json()) as { byMedia: Record<string, { downloadsStarted: number }> }
    return sent.every((m) => (stats.byMedia[m.media_id]?.downloadsStarted ?? 0) > 0)
  }, { timeoutMs: 45_000 })
  for (const m of sent) expect((await record(s, m.message_id))?.status).toBe('pending')
  return sent
}

async function record(s: Sandbox, messageId: string): Promise<MediaJson | undefined> {
  const res = await fetch(`${s.gw.url}/v1/media?message_id=${encodeURIComponent(messageId)}`, { headers: s.auth })
  return ((await res.json()) as { data: MediaJson[] }).data[0]
}

/** Each media ends stored, with the bytes the emulator (which remembered them) serves. */
async function expectStored(s: Sandbox, sent: { message_id: string; media_id: string }[]): Promise<void> {
  for (const m of sent) {
    const stored = await until(`${m.message_id} to leave pending`, async () => {
      const r = await record(s, m.message_id)
      return r && r.status !== 'pending' ? r : undefined
    }, { timeoutMs: 45_000 })
    expect(stored, JSON.stringify(stored.error)).toMatchObject({ status: 'stored' })
    const known = (await (await fetch(`${s.emulator}/_emulator/media/${m.media_id}`)).json()) as { sha256_hex: string; size: number }
    const content = Buffer.from(await (await fetch(`${s.gw.url}/v1/media/${stored.id}/content`, { headers: s.auth })).arrayBuffer())
    expect(createHash('sha256').update(content).digest('hex')).toBe(known.sha256_hex)
    expect(content.length).toBe(known.size)
  }
}

describe('a sandbox restart', () => {
  it('captures the media that were pending when it stopped, gracefully or killed', { timeout: 180_000 }, async () => {
    let s = await startSandbox()
    const beforeStop = await sendStalled(s)
    await s.gw.kill('SIGTERM')
    expect(existsSync(path.join(dataDir, 'emulator', 'journal.ndjson'))).toBe(true)

    const emulatorBefore = s.emulator
    s = await startSandbox()
    expect(s.emulator).toBe(emulatorBefore) // the port is reused, so the signed CDN URLs still name it
    await expectStored(s, beforeStop)

    const beforeKill = await sendStalled(s)
    await s.gw.kill('SIGKILL')
    s = await startSandbox()
    await expectStored(s, beforeKill)
  })
})
