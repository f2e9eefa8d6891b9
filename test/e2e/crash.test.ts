/**
 * Crash safety: the real binary is fed a few hundred signed webhooks and killed with SIGKILL at
 * random moments, several times, then restarted on the same data. Every webhook that got a 200
 * must end with its media `stored`, with the emulator's exact bytes; no blob may be corrupt, and
 * no media may have been written into two blobs (blob count = distinct contents).
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { signPayload } from '../../src/platforms/signature.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type ChildGateway, listAllMedia, startChildGateway } from '../helpers/child-gateway.js'

const MEDIA = 240
const KILLS = 4
const API_KEY = 'crash-test-api-key-0123456789'

let emulator: Emulator
let dataDir: string
beforeAll(async () => {
  emulator = await startEmulator({ accessToken: 'crash-token-value', appSecret: 'crash-app-secret', latencyMs: 15 })
  dataDir = await mkdtemp(path.join(tmpdir(), 'mediagate-crash-'))
})
afterAll(async () => {
  await emulator?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

function env(): Record<string, string> {
  return {
    MEDIAGATE_DATA_DIR: dataDir,
    META_APP_SECRET: emulator.appSecret,
    META_VERIFY_TOKEN: 'crash-verify',
    WHATSAPP_ACCESS_TOKEN: emulator.accessToken,
    META_GRAPH_URL: emulator.url,
    MEDIAGATE_API_KEY: API_KEY,
    MEDIAGATE_ALLOWED_HOSTS: '127.0.0.1',
    MEDIAGATE_LEASE_SECONDS: '5',
    MEDIAGATE_CONCURRENCY: '8',
  }
}

interface Pending {
  messageId: string
  expectedSha256: string
  body: Buffer
}

function buildWebhooks(): Pending[] {
  const out: Pending[] = []
  for (let i = 0; i < MEDIA; i++) {
    const bytes = randomBytes(20_000 + ((i * 7919) % 200_000))
    const expectedSha256 = createHash('sha256').update(bytes).digest('hex')
    let payload: object
    let messageId: string
    if (i % 3 === 2) {
      const media = emulator.addCdnMedia({ platform: 'messenger', bytes, mimeType: 'image/jpeg' })
      messageId = `m_crash_${i}`
      payload = messengerMessage({ mid: messageId, attachments: [{ type: 'image', url: media.url! }] })
    } else {
      const media = emulator.addWhatsAppMedia({ bytes, mimeType: 'video/mp4' })
      messageId = `wamid.crash${i}`
      payload = whatsappMessage({ wamid: messageId, media: { type: 'video', id: media.id, mime_type: 'video/mp4', sha256: media.sha256 } })
      // Some downloads stall mid-body, widening the window in which a kill lands mid-download.
      if (i % 5 === 0) emulator.setFaults(media.id, { stallMs: 300, times: 1 })
    }
    out.push({ messageId, expectedSha256, body: Buffer.from(JSON.stringify(payload)) })
  }
  return out
}

async function post(gw: ChildGateway, item: Pending): Promise<boolean> {
  try {
    const res = await fetch(`${gw.url}/webhooks/meta`, {
      method: 'POST',
      body: item.body,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(item.body, emulator.appSecret) },
    })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false // connection refused or reset by the kill: Meta would retry later
  }
}

/** Sends from the queue, 8 at a time, until it is empty or `stopAt` passes. */
async function sendUntil(gw: ChildGateway, queue: Pending[], acked: Map<string, Pending>, stopAt: number): Promise<void> {
  const lanes = Array.from({ length: 8 }, async () => {
    while (queue.length > 0 && Date.now() < stopAt) {
      const item = queue.shift()!
      if (await post(gw, item)) acked.set(item.messageId, item)
      else queue.push(item)
    }
  })
  await Promise.all(lanes)
}

const listAll = (gw: ChildGateway) => listAllMedia(gw.url, API_KEY)

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(file).on('data', (c) => hash.update(c)).on('end', () => resolve(hash.digest('hex'))).on('error', reject)
  })
}

describe('crash safety', () => {
  it('loses no acknowledged media across repeated SIGKILLs', { timeout: 180_000 }, async () => {
    const queue = buildWebhooks()
    const acked = new Map<string, Pending>()
    let gw = await startChildGateway(env())
    for (let kill = 0; kill < KILLS; kill++) {
      const runFor = 250 + Math.floor(Math.random() * 900)
      const sending = sendUntil(gw, queue, acked, Date.now() + runFor + 200)
      await new Promise((r) => setTimeout(r, runFor))
      await gw.kill('SIGKILL')
      await sending
      gw = await startChildGateway(env())
    }
    // Meta keeps redelivering what was not acknowledged; some of it was acknowledged already.
    await sendUntil(gw, queue, acked, Date.now() + 60_000)
    expect(queue).toHaveLength(0)
    expect(acked.size).toBe(MEDIA)

    const deadline = Date.now() + 90_000
    let records = await listAll(gw)
    while (records.some((r) => r.status === 'pending') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250))
      records = await listAll(gw)
    }
    await gw.kill('SIGTERM')

    const byMessage = new Map(records.map((r) => [r.message_id, r]))
    expect(records).toHaveLength(MEDIA)
    for (const item of acked.values()) {
      const record = byMessage.get(item.messageId)
      expect(record, item.messageId).toBeDefined()
      expect(record!.status, `${item.messageId}: ${JSON.stringify(record!.error)}`).toBe('stored')
      expect(record!.sha256).toBe(item.expectedSha256)
    }

    const blobRoot = path.join(dataDir, 'blobs')
    const files = (await filesUnder(blobRoot)).filter((f) => !f.includes(`${path.sep}.tmp${path.sep}`))
    const distinct = new Set(records.map((r) => r.sha256))
    expect(files).toHaveLength(distinct.size)
    for (const file of files) expect(await hashFile(file), file).toBe(path.basename(file))
    // Partial files the kills left behind are never blobs (checked above). A start removes those
    // that no put has touched for a while (recent ones may belong to another live process).
    const tmpDir = path.join(blobRoot, '.tmp')
    const leftovers = await filesUnder(tmpDir).catch(() => [])
    const longAgo = new Date(Date.now() - 3 * 3_600_000)
    for (const file of leftovers) await utimes(file, longAgo, longAgo)
    const restarted = await startChildGateway(env())
    await restarted.kill('SIGTERM')
    expect(await filesUnder(tmpDir).catch(() => [])).toEqual([])
  })
})
