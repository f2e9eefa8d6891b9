/**
 * An emulator given a state directory remembers its media across a restart (issue 16: pending
 * media survive a sandbox restart): the same ids resolve, the same signed URLs verify and serve
 * the same bytes, and whatever had expired by Meta's rules is still expired.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { SECRET, TOKEN } from './fixture.js'

const DAY = 24 * 3600_000
let dir: string
let clock: number
const running: Emulator[] = []

async function start(port = 0): Promise<Emulator> {
  const emu = await startEmulator({ accessToken: TOKEN, appSecret: SECRET, stateDir: dir, port, now: () => clock })
  running.push(emu)
  return emu
}

async function restart(emu: Emulator): Promise<Emulator> {
  await emu.close()
  // The sandbox restarts its emulator on the port it had: the URLs it gave out name it.
  return start(Number(new URL(emu.url).port))
}

/** One request on a connection of its own: a kept-alive one would still point at the emulator before the restart. */
function request(url: string, o: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const bytesAt = (url: string, headers: Record<string, string> = {}) => request(url, { headers })
const auth = { authorization: `Bearer ${TOKEN}` }

async function lookup(emu: Emulator, id: string): Promise<{ status: number; body: { url?: string; sha256?: string } }> {
  const res = await request(`${emu.url}/v26.0/${id}`, { headers: auth })
  return { status: res.status, body: JSON.parse(res.body.toString()) as { url?: string; sha256?: string } }
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-emu-state-'))
  clock = 1_800_000_000_000
})
afterEach(async () => {
  for (const emu of running.splice(0)) await emu.close()
  await rm(dir, { recursive: true, force: true })
})

describe('an emulator with a state directory', () => {
  it('knows its media after a restart: ids resolve, signed URLs verify, bytes are the same', async () => {
    let emu = await start()
    const photo = Buffer.from('a real photo, as far as the emulator can tell')
    const wa = emu.addWhatsAppMedia({ bytes: photo, mimeType: 'image/jpeg', phoneNumberId: '106540352242922' })
    const generated = emu.addWhatsAppMedia({ size: 300_000, mimeType: 'video/mp4' })
    const generatedHash = generated.sha256
    const messenger = emu.addCdnMedia({ platform: 'messenger', bytes: Buffer.from('%PDF-1.4 a file'), mimeType: 'application/pdf', filename: 'invoice.pdf' })
    const instagram = emu.addCdnMedia({ platform: 'instagram', bytes: Buffer.from('instagram bytes'), mimeType: 'image/jpeg' })
    const mid = emu.payloads.messengerMedia(messenger).entry[0]!.messaging[0]!.message!.mid as string

    emu = await restart(emu)

    const found = await lookup(emu, wa.id)
    expect(found.status).toBe(200)
    expect(found.body.sha256).toBe(wa.sha256)
    expect(await bytesAt(found.body.url!, auth)).toEqual({ status: 200, body: photo })
    const big = await lookup(emu, generated.id)
    expect(big.body.sha256).toBe(generatedHash)
    expect((await bytesAt(big.body.url!, auth)).body.length).toBe(300_000)
    // URLs signed before the restart, as a gateway's catalog holds them.
    expect(await bytesAt(messenger.url!)).toEqual({ status: 200, body: Buffer.from('%PDF-1.4 a file') })
    expect(await bytesAt(instagram.url!)).toEqual({ status: 200, body: Buffer.from('instagram bytes') })
    expect(emu.media(messenger.id)).toMatchObject({ filename: 'invoice.pdf', url: messenger.url, platform: 'messenger' })
    // Graph's Message node still answers for the message sent before, with a fresh URL that works.
    const node = await request(`${emu.url}/v26.0/${encodeURIComponent(mid)}?fields=attachments`, { headers: auth })
    const attachment = (JSON.parse(node.body.toString()) as { attachments: { data: { file_url: string }[] } }).attachments.data[0]!
    expect(await bytesAt(attachment.file_url)).toEqual({ status: 200, body: Buffer.from('%PDF-1.4 a file') })
    // Bytes are files under the state directory; generated media are not written at all.
    expect(readdirSync(path.join(dir, 'bytes')).length).toBe(3)
  })

  it('keeps expiry honest: what expired by Meta’s rules is still expired after a restart', async () => {
    let emu = await start()
    const wa = emu.addWhatsAppMedia({ bytes: Buffer.from('whatsapp'), mimeType: 'image/jpeg' })
    const shortUrl = emu.addCdnMedia({ platform: 'messenger', bytes: Buffer.from('messenger'), mimeType: 'image/jpeg', ttlMs: 60_000 })
    const ig = emu.addCdnMedia({ platform: 'instagram', bytes: Buffer.from('ig'), mimeType: 'image/jpeg', ttlMs: 60_000 })
    const deleted = emu.addWhatsAppMedia({ bytes: Buffer.from('deleted'), mimeType: 'image/jpeg' })
    expect((await request(`${emu.url}/v26.0/${deleted.id}`, { method: 'DELETE', headers: auth })).status).toBe(200)

    clock += 2 * 60_000
    emu = await restart(emu)
    expect((await bytesAt(shortUrl.url!)).status).toBe(403)
    expect((await bytesAt(ig.url!)).status).toBe(403)
    expect((await lookup(emu, deleted.id)).status).toBe(400)
    expect((await lookup(emu, wa.id)).status).toBe(200)

    clock += 7 * DAY
    emu = await restart(emu)
    expect((await lookup(emu, wa.id)).status).toBe(400)
  })

  it('survives a journal line cut short by a crash, and goes on appending after it', async () => {
    let emu = await start()
    const first = emu.addWhatsAppMedia({ bytes: Buffer.from('first'), mimeType: 'image/jpeg' })
    await emu.close()
    appendFileSync(path.join(dir, 'journal.ndjson'), '{"t":"media","id":"torn","plat')
    emu = await start()
    const second = emu.addWhatsAppMedia({ bytes: Buffer.from('second'), mimeType: 'image/jpeg' })
    emu = await restart(emu)
    expect(emu.media(first.id)?.size).toBe(5)
    expect(emu.media(second.id)?.size).toBe(6)
    expect(emu.media('torn')).toBeUndefined()
  })

  it('compacts on opening: one line per fact still true, no bytes for deleted media, no stray files', async () => {
    let emu = await start()
    const kept = emu.addWhatsAppMedia({ bytes: Buffer.from('kept'), mimeType: 'image/jpeg' })
    const gone = emu.addWhatsAppMedia({ bytes: Buffer.from('deleted soon'), mimeType: 'image/jpeg' })
    const goneJson = JSON.stringify(emu.media(gone.id))
    const ig = emu.addCdnMedia({ platform: 'instagram', bytes: Buffer.from('ig'), mimeType: 'image/jpeg' })
    // Every fresh Instagram URL moves the server-side expiry: one journal line each.
    for (let i = 1; i <= 5; i++) {
      clock += 1000
      emu.cdnUrl(ig.id)
    }
    expect((await request(`${emu.url}/v26.0/${gone.id}`, { method: 'DELETE', headers: auth })).status).toBe(200)
    // The deleted media's bytes go with the deletion, not at the next start.
    expect(readdirSync(path.join(dir, 'bytes')).length).toBe(2)
    const journal = path.join(dir, 'journal.ndjson')
    const before = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; id: string; at?: number })
    const expiries = before.filter((l) => l.t === 'expires').map((l) => l.at)
    expect(expiries).toHaveLength(6)
    writeFileSync(path.join(dir, 'bytes', 'left-by-a-crash.tmp-0123'), 'half a file')

    emu = await restart(emu)
    const lines = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; id: string; at?: number })
    // kept: media; gone: media + deleted; ig: media + url + expires (the last of six).
    expect(lines.map((l) => `${l.t} ${l.id}`)).toEqual([`media ${kept.id}`, `media ${gone.id}`, `deleted ${gone.id}`, `media ${ig.id}`, `url ${ig.id}`, `expires ${ig.id}`])
    expect(lines.at(-1)!.at).toBe(expiries.at(-1))
    expect(readdirSync(path.join(dir, 'bytes')).length).toBe(2)
    // The same facts as before the restart: bytes served, the deleted id known and refused, its description unchanged.
    expect(await bytesAt((await lookup(emu, kept.id)).body.url!, auth)).toEqual({ status: 200, body: Buffer.from('kept') })
    expect((await lookup(emu, gone.id)).status).toBe(400)
    expect(JSON.stringify(emu.media(gone.id))).toBe(goneJson)
    expect((await bytesAt(ig.url!)).status).toBe(200)

    // A second start finds nothing to drop and keeps the same journal.
    const compacted = readFileSync(journal, 'utf8')
    emu = await restart(emu)
    expect(readFileSync(journal, 'utf8')).toBe(compacted)
  })

  it('writes nothing without one (the default for tests and `mediagate emulator`)', async () => {
    const emu = await startEmulator({ accessToken: TOKEN, appSecret: SECRET })
    running.push(emu)
    emu.addWhatsAppMedia({ bytes: Buffer.from('x'), mimeType: 'image/jpeg' })
    expect(existsSync(path.join(dir, 'journal.ndjson'))).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })
})
