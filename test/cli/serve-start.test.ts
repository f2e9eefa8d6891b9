/**
 * What `mediagate serve` says at start (issue 16): the sandbox keeps its identity across restarts
 * and its banner's commands work verbatim; a port in use names the setting to change; a
 * configuration that runs but will not work as expected is flagged, not hidden behind "running".
 */
import { createHmac, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type ChildGateway, startChildGateway } from '../helpers/child-gateway.js'
import { runCli } from '../helpers/run-cli.js'
import { until } from '../helpers/until.js'

const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-serve-start-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The banner's values, once it is printed. */
async function banner(gw: ChildGateway): Promise<Record<'emulator' | 'apiKey' | 'appSecret' | 'verifyToken' | 'accessToken' | 'fetchLine' | 'handshake', string>> {
  const out = await until('the banner', () => (gw.output().includes('access token:') && / replay payload\.json/.test(gw.output()) ? gw.output() : undefined), { timeoutMs: 15_000 })
  const field = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(out)![1]!
  return {
    emulator: field('emulator'),
    apiKey: field('API key'),
    appSecret: field('app secret'),
    verifyToken: field('verify token'),
    accessToken: field('access token'),
    fetchLine: out.split('\n').find((l) => l.includes(' fetch <source_media_id'))!.trim(),
    handshake: /curl -s '([^']+hub\.challenge=42)'/.exec(out)![1]!,
  }
}

/** A banner line's VAR=value words, and the words of the command that follows them up to `verb`. */
function commandOf(line: string, verb: string): { env: Record<string, string>; command: string[] } {
  const words = line.slice(0, line.indexOf(` ${verb} `)).trim().split(/\s+/)
  const env = words.filter((w) => /^[A-Z_]+=/.test(w))
  return { env: Object.fromEntries(env.map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)])), command: words.slice(env.length) }
}

describe('the sandbox keeps its identity', () => {
  it('reuses its secrets and emulator port after a restart, and the commands it prints work', { timeout: 120_000 }, async () => {
    const dataDir = await tempDir()
    const first = await startChildGateway({ MEDIAGATE_DATA_DIR: dataDir })
    cleanups.push(() => first.kill('SIGTERM'))
    const before = await banner(first)
    await first.kill('SIGTERM')
    const file = path.join(dataDir, 'sandbox.json')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ apiKey: before.apiKey, appSecret: before.appSecret })

    const gw = await startChildGateway({ MEDIAGATE_DATA_DIR: dataDir })
    cleanups.push(() => gw.kill('SIGTERM'))
    const after = await banner(gw)
    expect(after).toMatchObject({ emulator: before.emulator, apiKey: before.apiKey, appSecret: before.appSecret, verifyToken: before.verifyToken, accessToken: before.accessToken })
    expect(after.handshake.startsWith(gw.url)).toBe(true)

    // The handshake with the printed verify token.
    const challenge = await fetch(after.handshake)
    expect(challenge.status).toBe(200)
    expect(await challenge.text()).toBe('42')
    // The dashboard signs in with the printed key.
    const signIn = await fetch(`${gw.url}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: gw.url }, body: JSON.stringify({ api_key: after.apiKey }) })
    expect(signIn.status).toBe(200)

    // A sample sent through the emulator, then `mediagate fetch` of its media id with the printed environment.
    const sent = (await (
      await fetch(`${after.emulator}/_emulator/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ platform: 'whatsapp', kind: 'image', target: `${gw.url}/webhooks/meta` }) })
    ).json()) as { message_id: string; status: number }
    expect(sent.status).toBe(200)
    const auth = { authorization: `Bearer ${after.apiKey}` }
    const record = await until('the media stored', async () => {
      const [m] = ((await (await fetch(`${gw.url}/v1/media?message_id=${encodeURIComponent(sent.message_id)}`, { headers: auth })).json()) as { data: MediaJson[] }).data
      return m?.status === 'stored' ? m : undefined
    }, { timeoutMs: 15_000 })
    const { env, command } = commandOf(after.fetchLine, 'fetch')
    // Started from the clone, the banner runs the built CLI with node (npx would pack and build a copy first).
    expect(command).toEqual(['node', 'dist/cli/main.js'])
    const out = path.join(dataDir, 'fetched.bin')
    const fetched = await runCli(['fetch', record.source.media_id!, '-o', out], env)
    expect(fetched.code, fetched.stderr).toBe(0)
    expect((await stat(out)).size).toBe(record.size)

    // `mediagate replay --signature` with the printed app secret records into the sandbox, whose worker captures it.
    const body = Buffer.from(JSON.stringify(whatsappMessage({ wamid: `wamid.replay-${randomBytes(4).toString('hex')}`, media: { type: 'document', id: record.source.media_id!, mime_type: 'image/jpeg', sha256: record.sha256!, filename: 'again.jpg' } })))
    const payload = path.join(dataDir, 'payload.json')
    await writeFile(payload, body)
    const signature = `sha256=${createHmac('sha256', after.appSecret).update(body).digest('hex')}`
    const replayed = await runCli(['replay', payload, '--signature', signature], env)
    expect(replayed.code, replayed.stderr).toBe(0)
    expect(replayed.stdout).toContain('recorded 1 new media')
    const replayedId = /^(med_\S+)/m.exec(replayed.stdout)![1]!
    const captured = await until('the replayed media to leave pending', async () => {
      const m = (await (await fetch(`${gw.url}/v1/media/${replayedId}`, { headers: auth })).json()) as MediaJson
      return m.status === 'pending' ? undefined : m
    }, { timeoutMs: 15_000 })
    expect(captured).toMatchObject({ status: 'stored', sha256: record.sha256 })
  })
})

describe('serve at start', () => {
  it('names the setting to change when its port is in use', { timeout: 60_000 }, async () => {
    const taken: Server = createServer()
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise((r) => taken.close(r)))
    const port = (taken.address() as { port: number }).port
    const run = await runCli(['serve'], { MEDIAGATE_DATA_DIR: await tempDir(), MEDIAGATE_PORT: String(port) }, 60_000)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`mediagate: invalid_config: 127.0.0.1:${port} is already in use`)
    expect(run.stderr).toContain('MEDIAGATE_PORT (--port)')
  })

  it('flags a missing verify token, a missing WhatsApp token and forwards without a public URL', { timeout: 60_000 }, async () => {
    const gw = await startChildGateway({
      MEDIAGATE_DATA_DIR: await tempDir(),
      META_APP_SECRET: 'an-app-secret-for-tests',
      MEDIAGATE_API_KEY: 'k'.repeat(32),
      MEDIAGATE_FORWARD_URL: 'http://127.0.0.1:9/hook',
    })
    cleanups.push(() => gw.kill('SIGTERM'))
    const out = await until('the public URL warning', () => (gw.output().includes('MEDIAGATE_PUBLIC_URL') ? gw.output() : undefined), { timeoutMs: 15_000 })
    expect(out).toContain('META_VERIFY_TOKEN is unset')
    expect(out).toContain('WHATSAPP_ACCESS_TOKEN is unset')
    expect(out).toContain('MEDIAGATE_FORWARD_URL is set without MEDIAGATE_PUBLIC_URL')
    expect(out).not.toContain('an-app-secret-for-tests')
  })
})
