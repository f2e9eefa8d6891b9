/**
 * `mediagate scan` (the real binary) beside a running gateway, both on a real clamd: stored
 * media rescanned after a signature is added (clamd RELOAD) turn failed/infected, their bytes
 * quarantined (shared bytes: every record using them), and the user's app gets a forward saying
 * which media were infected; `--release` puts a false positive back, byte for byte.
 */
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { ForwardBlock } from '../../src/forwarding/forward-body.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { clamdAvailable, startClamd, type TestClamd } from '../helpers/clamd.js'
import { type Harness, startHarness } from '../helpers/harness.js'
import { runCli } from '../helpers/run-cli.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe.skipIf(!clamdAvailable())('mediagate scan', () => {
  let clamd: TestClamd
  let h: Harness
  let app: http.Server
  const forwards: ForwardBlock[] = []
  const clean = randomBytes(30_000)
  const later = Buffer.concat([Buffer.from('found by a signature added later '), randomBytes(16)])
  const ids: Record<'clean' | 'first' | 'twin', string> = { clean: '', first: '', twin: '' }

  const send = async (bytes: Buffer): Promise<string> => {
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'application/pdf' })
    const payload = whatsappMessage({ media: { type: 'document', id: media.id, mime_type: 'application/pdf', sha256: media.sha256 } })
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    expect((await h.postWebhook(payload)).status).toBe(200)
    return (await h.mediaOf(wamid))[0]!.id
  }
  const get = async (id: string) => (await (await h.api(`/v1/media/${id}`)).json()) as MediaJson
  const cli = (args: string[]) => runCli(['scan', ...args], { MEDIAGATE_DATA_DIR: h.dataDir, MEDIAGATE_CLAMAV_URL: clamd.url }, 60_000)
  const forwardsAbout = async (id: string, status: string) => {
    for (let i = 0; i < 400; i++) {
      const found = forwards.find((f) => f.media.some((m) => m.id === id && m.status === status))
      if (found) return found
      await sleep(25)
    }
    return undefined
  }

  beforeAll(async () => {
    app = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        forwards.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { mediagate: ForwardBlock }).mediagate)
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
    clamd = await startClamd()
    h = await startHarness({ env: { MEDIAGATE_CLAMAV_URL: clamd.url, MEDIAGATE_FORWARD_URL: `http://127.0.0.1:${(app.address() as AddressInfo).port}/hooks` } })
    ids.clean = await send(clean)
    ids.first = await send(later)
    ids.twin = await send(later)
    const settled = await h.settled(Object.values(ids))
    expect(settled.map((m) => [m.status, m.scan?.status])).toEqual([['stored', 'clean'], ['stored', 'clean'], ['stored', 'clean']])
  }, 90_000)

  afterAll(async () => {
    await h?.close()
    await clamd?.close()
    app?.closeAllConnections()
    await new Promise((r) => app?.close(r))
  })

  it('finds nothing before the signature exists, and records the rescan', async () => {
    const before = (await get(ids.clean)).scan!.scanned_at!
    const run = await cli([])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/scanned 2 blobs of 3 stored media: 2 clean, 0 media infected/)
    expect(Date.parse((await get(ids.clean)).scan!.scanned_at!)).toBeGreaterThanOrEqual(Date.parse(before))
    const future = await cli(['--since', '2999-01-01'])
    expect(future.stdout).toMatch(/scanned 0 blobs of 0 stored media/)
  })

  it('quarantines what a new signature finds, and the app hears which media were infected', async () => {
    await clamd.addSignatures([{ name: 'Mediagate.Test.Later', bytes: later }])
    await clamd.reload(later)
    const run = await cli([])
    expect(run.code).toBe(1)
    // No progress bar off a terminal: stdout says it all.
    expect(run.stderr).toBe('')
    expect(run.stdout).toContain(`infected: ${ids.first} (Mediagate.Test.Later.UNOFFICIAL)`)
    expect(run.stdout).toContain(`infected: ${ids.twin} (Mediagate.Test.Later.UNOFFICIAL)`)
    expect(run.stdout).toMatch(/1 clean, 2 media infected.*2 forwards queued/)
    for (const id of [ids.first, ids.twin]) {
      expect(await get(id)).toMatchObject({ status: 'failed', error: { code: 'infected' }, scan: { status: 'infected', signature: 'Mediagate.Test.Later.UNOFFICIAL' } })
      expect((await h.api(`/v1/media/${id}/content`)).status).toBe(409)
      const forward = await forwardsAbout(id, 'failed')
      expect(forward?.media.find((m) => m.id === id)).toMatchObject({ status: 'failed', error: { code: 'infected' }, scan: { status: 'infected' }, content_url: null })
    }
    expect(await get(ids.clean)).toMatchObject({ status: 'stored', scan: { status: 'clean' } })
  })

  it('mediagate doctor reports the scanner: its engine when it answers, what to fix when it does not', async () => {
    const up = await runCli(['doctor'], { MEDIAGATE_DATA_DIR: h.dataDir, MEDIAGATE_CLAMAV_URL: clamd.url }, 60_000)
    expect(up.stdout).toMatch(new RegExp(`\\[(?: ok |WARN)\\] scanner +${clamd.url.replace(/[/.]/g, '\\$&')}: ClamAV \\d`))
    const down = await runCli(['doctor'], { MEDIAGATE_DATA_DIR: h.dataDir, MEDIAGATE_CLAMAV_URL: 'tcp://127.0.0.1:1', MEDIAGATE_CLAMAV_TIMEOUT_MS: '1000' }, 60_000)
    expect(down.code).toBe(1)
    expect(down.stdout).toMatch(/\[FAIL\] scanner +scanner: .*start clamd/)
    const off = await runCli(['doctor'], { MEDIAGATE_DATA_DIR: h.dataDir }, 60_000)
    expect(off.stdout).toMatch(/\[WARN\] scanner +MEDIAGATE_CLAMAV_URL is unset/)
  })

  it('--release puts a false positive back, byte for byte, and tells the app', async () => {
    const run = await cli(['--release', ids.first])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`released ${ids.first}`)
    const released = await get(ids.first)
    expect(released).toMatchObject({ status: 'stored', error: null, scan: { status: 'skipped', signature: 'Mediagate.Test.Later.UNOFFICIAL' } })
    expect(released.scan!.released_at).not.toBeNull()
    const content = await h.api(`/v1/media/${ids.first}/content`)
    expect(content.status).toBe(200)
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(later))
    // Its twin stays quarantined until it is reviewed too: a retry is refused, saying how to release it.
    expect((await get(ids.twin)).status).toBe('failed')
    const retry = await runCli(['retry', ids.twin], { MEDIAGATE_DATA_DIR: h.dataDir }, 60_000)
    expect(retry.code).toBe(1)
    expect(retry.stderr).toContain(`not requeued ${ids.twin}: it is infected: its bytes are quarantined; after review, \`mediagate scan --release ${ids.twin}\` puts it back`)
    expect((await get(ids.twin)).status).toBe('failed')
    expect(await forwardsAbout(ids.first, 'stored')).toBeDefined()
    const again = await cli(['--release', ids.first])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/not infected/)
  })
})
