/** The CLI, spawned as the real binary against the same data a running gateway uses. */
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OPTIONS } from '../../src/config/options.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { signPayload } from '../../src/platforms/signature.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { runCli } from '../helpers/run-cli.js'

let h: Harness
let env: Record<string, string>
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function capture(bytes: Buffer, fault?: object): Promise<{ record: MediaJson; mediaId: string }> {
  const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
  if (fault) h.emulator.setFaults(media.id, fault)
  const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
  await h.postWebhook(payload)
  const [m] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
  const [record] = await h.settled([m!.id])
  return { record: record!, mediaId: media.id }
}

beforeAll(async () => {
  h = await startHarness()
  env = {
    MEDIAGATE_DATA_DIR: h.dataDir,
    META_APP_SECRET: h.emulator.appSecret,
    META_VERIFY_TOKEN: 'verify',
    WHATSAPP_ACCESS_TOKEN: h.emulator.accessToken,
    META_GRAPH_URL: h.emulator.url,
    MEDIAGATE_API_KEY: API_KEY,
    MEDIAGATE_ALLOWED_HOSTS: '127.0.0.1',
  }
})
afterAll(async () => h?.close())

describe('mediagate CLI', () => {
  it('lists every option with its environment variable and default in --help', async () => {
    const { code, stdout } = await runCli(['serve', '--help'], {})
    expect(code).toBe(0)
    for (const option of OPTIONS) expect(stdout).toContain(option.env)
    expect(stdout).toContain('default 127.0.0.1')
  })

  it('fetch downloads one WhatsApp media id and checks its hash', async () => {
    const bytes = randomBytes(40_000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'application/pdf' })
    const out = path.join(h.dataDir, 'fetched.pdf')
    const { code, stderr } = await runCli(['fetch', media.id, '-o', out], env)
    expect(code, stderr).toBe(0)
    expect(stderr).toContain('(verified)')
    expect(sha(await readFile(out))).toBe(sha(bytes))
    const bad = await runCli(['fetch', media.id], { ...env, WHATSAPP_ACCESS_TOKEN: 'wrong-token' })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^mediagate: auth: /m)
    expect(bad.stderr).not.toContain('wrong-token')
  })

  it('replay records a saved body once, checks its signature, and can skip the check', async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(1000), mimeType: 'image/jpeg' })
    const body = Buffer.from(JSON.stringify(whatsappMessage({ wamid: 'wamid.replayed', media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })))
    const file = path.join(h.dataDir, 'payload.json')
    await writeFile(file, body)
    const unsigned = await runCli(['replay', file], env)
    expect(unsigned.code).toBe(1)
    expect(unsigned.stderr).toContain('unauthorized')
    const first = await runCli(['replay', file, '--signature', signPayload(body, h.emulator.appSecret)], env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain('recorded 1 new media, 0 already known')
    const again = await runCli(['replay', file, '--skip-signature'], env)
    expect(again.stdout).toContain('recorded 0 new media, 1 already known')
    const [record] = await h.mediaOf('wamid.replayed')
    expect((await h.settled([record!.id]))[0]!.status).toBe('stored')
  })

  it('ls, status and retry show and requeue failed media', async () => {
    const { record, mediaId } = await capture(randomBytes(2000), { graphErrorCode: 190 })
    expect(record.status).toBe('failed')
    expect(record.error?.code).toBe('auth')

    const ls = await runCli(['ls', '--status', 'failed', '--json'], env)
    expect(ls.code, ls.stderr).toBe(0)
    const listed = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as MediaJson)
    expect(listed.map((m) => m.id)).toContain(record.id)

    const status = await runCli(['status', '--json'], env)
    const summary = JSON.parse(status.stdout) as { counts: { platform: string; status: string; count: number }[]; failed_since: { code: string; count: number }[]; stored_since: number; since: string; oldest_pending_at: string | null }
    expect(Object.keys(summary).sort()).toEqual(['counts', 'failed_since', 'oldest_pending_at', 'since', 'stored_since'])
    expect(summary.counts.find((c) => c.platform === 'whatsapp' && c.status === 'failed')!.count).toBeGreaterThanOrEqual(1)
    expect(summary.failed_since.find((f) => f.code === 'auth')!.count).toBeGreaterThanOrEqual(1)
    expect(Date.parse(summary.since)).toBeLessThan(Date.now())
    const table = await runCli(['status'], env)
    expect(table.stdout).toMatch(/PLATFORM\s+PENDING\s+STORED\s+FAILED/)
    expect(table.stdout).toMatch(/^ {2}auth\s+\d+\s+Meta refused the access token/m)

    h.emulator.setFaults(mediaId, {})
    const retry = await runCli(['retry', '--status', 'failed', '--code', 'auth'], env)
    expect(retry.code, retry.stderr).toBe(0)
    expect(retry.stdout).toMatch(/requeued [1-9]\d* media/)
    const [after] = await h.settled([record.id])
    expect(after!.status).toBe('stored')
  })

  it('retry names each id it did not requeue, with why, and exits non-zero', async () => {
    const { record: stored } = await capture(randomBytes(2100))
    const { record: failed, mediaId } = await capture(randomBytes(2200), { graphErrorCode: 190 })
    expect([stored.status, failed.status]).toEqual(['stored', 'failed'])
    const run = await runCli(['retry', stored.id, 'med_01ARZ3NDEKTSV4RRFFQ69G5FAV', failed.id, '--code', 'network'], env)
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('requeued 0 media')
    expect(run.stderr).toContain(`not requeued ${stored.id}: it is stored; only failed media can be retried`)
    expect(run.stderr).toContain('not requeued med_01ARZ3NDEKTSV4RRFFQ69G5FAV: no such media')
    expect(run.stderr).toContain(`not requeued ${failed.id}: it failed with auth, not network`)
    expect(run.stderr).toMatch(/^mediagate: conflict: 3 of 3 media were not requeued/m)
    const unknown = await runCli(['retry', 'med_01ARZ3NDEKTSV4RRFFQ69G5FAV'], env)
    expect(unknown.stderr).toMatch(/^mediagate: not_found: /m)
    h.emulator.setFaults(mediaId, {})
    const mixed = await runCli(['retry', failed.id, stored.id], env)
    expect(mixed.code).toBe(1)
    expect(mixed.stdout).toContain('requeued 1 media')
    expect((await h.settled([failed.id]))[0]!.status).toBe('stored')
  })

  it('doctor checks everything and names what to fix', async () => {
    const ok = await runCli(['doctor'], env)
    expect(ok.code, ok.stdout).toBe(0)
    expect(ok.stdout).toMatch(/catalog\s+sqlite: reachable/)
    expect(ok.stdout).toMatch(/blob store\s+disk: writable/)
    expect(ok.stdout).toContain('token valid')
    const bad = await runCli(['doctor'], { ...env, WHATSAPP_ACCESS_TOKEN: 'expired-token-123' })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/FAIL\] graph api\s+auth: .*renew WHATSAPP_ACCESS_TOKEN/)
    expect(bad.stdout).not.toContain('expired-token-123')
    const config = await runCli(['doctor'], { ...env, MEDIAGATE_PORT: 'eighty' })
    expect(config.code).toBe(1)
    expect(config.stdout).toContain('MEDIAGATE_PORT')
  })

  it('verify finds a corrupt blob and quarantines it', async () => {
    const { record } = await capture(randomBytes(3000))
    const clean = await runCli(['verify'], env)
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)
    expect(clean.stdout).toMatch(/verified \d+ blobs: \d+ ok, 0 missing or corrupt/)
    const sha256 = record.sha256!
    const file = path.join(h.dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256)
    await writeFile(file, randomBytes(3000))
    const found = await runCli(['verify'], env)
    expect(found.code).toBe(1)
    expect(found.stdout).toContain(`corrupt: sha256/${sha256.slice(0, 2)}`)
    const fixed = await runCli(['verify', '--quarantine'], env)
    expect(fixed.stdout).toMatch(/moved to quarantine\/.*; 1 media marked failed/)
    const after = (await (await h.api(`/v1/media/${record.id}`)).json()) as MediaJson
    expect(after.status).toBe('failed')
    expect(after.error?.code).toBe('integrity')
    expect((await runCli(['verify'], env)).code).toBe(0)
  })
})
