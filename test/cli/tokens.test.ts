/**
 * Which token Meta received from the commands that talk to it about a media: `mediagate capture`
 * (lazy media) and `mediagate fetch`. The emulator accepts the global token and the number's own
 * and counts each media's lookups and downloads by the token's label, so a command that picked
 * the global token where mediagate.config.json gives the number its own shows up as `default`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureCommand } from '../../src/cli/commands/capture.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { type Harness, startHarness } from '../helpers/harness.js'
import { runCli } from '../helpers/run-cli.js'

const DEFAULT_TOKEN = 'global-whatsapp-token-0123456789'
const NUMBER_TOKEN = 'per-number-token-0123456789'
const CONFIGURED = '111111111111111'
const OTHER = '222222222222222'
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

let h: Harness
let dir: string
let configFile: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-cli-tokens-'))
  configFile = path.join(dir, 'mediagate.config.json')
  await writeFile(configFile, JSON.stringify({ whatsapp: { [CONFIGURED]: { access_token: NUMBER_TOKEN } } }))
  // Lazy: the gateway records the media and leaves the download to `mediagate capture`.
  h = await startHarness({
    emulator: { accessToken: DEFAULT_TOKEN, extraAccessTokens: { number: NUMBER_TOKEN } },
    env: { WHATSAPP_ACCESS_TOKEN: DEFAULT_TOKEN, MEDIAGATE_CONFIG_FILE: configFile, MEDIAGATE_POLICY_WHATSAPP: 'lazy' },
  })
})
afterAll(async () => {
  await h?.close()
  await rm(dir, { recursive: true, force: true })
})

const tokensOf = (mediaId: string) => h.emulator.stats().byMedia[mediaId]?.tokens ?? {}

/** Env for the spawned binary: the global token set, the number's in the config file. */
const cliEnv = () => ({
  MEDIAGATE_DATA_DIR: h.dataDir,
  WHATSAPP_ACCESS_TOKEN: DEFAULT_TOKEN,
  MEDIAGATE_CONFIG_FILE: configFile,
  META_GRAPH_URL: h.emulator.url,
  MEDIAGATE_ALLOWED_HOSTS: '127.0.0.1',
})

describe('mediagate capture', () => {
  it('captures a lazy media with its number’s token, never the global one', async () => {
    const bytes = randomBytes(4000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg', phoneNumberId: CONFIGURED })
    const payload = whatsappMessage({ phoneNumberId: CONFIGURED, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    expect((await h.postWebhook(payload)).status).toBe(200)
    const [record] = await h.mediaOf(wamid)
    expect(record).toMatchObject({ status: 'remote', account_id: CONFIGURED })
    expect(tokensOf(media.id)).toEqual({})

    let out = ''
    const flags = ['--data-dir', h.dataDir, '--meta-graph-url', h.emulator.url, '--allowed-hosts', '127.0.0.1', '--whatsapp-access-token', DEFAULT_TOKEN, '--config-file', configFile]
    await captureCommand({ write: (s: string) => (out += s) }).parseAsync([record!.id, '--due-within', '8d', ...flags], { from: 'user' })
    expect(out).toContain(`stored ${record!.id} (${bytes.length} bytes, sha256 ${sha(bytes)})`)

    const tokens = tokensOf(media.id)
    expect(Object.keys(tokens)).toEqual(['number'])
    expect(tokens.number).toBeGreaterThanOrEqual(2) // a lookup and a download
  })
})

describe('mediagate fetch', () => {
  it('--phone-number-id uses that number’s token from mediagate.config.json', async () => {
    const bytes = randomBytes(30_000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'application/pdf', phoneNumberId: CONFIGURED })
    const file = path.join(dir, 'number.pdf')
    const run = await runCli(['fetch', '--phone-number-id', CONFIGURED, media.id, '-o', file], cliEnv())
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(`${media.id}: ${bytes.length} bytes, application/pdf, sha256 ${sha(bytes)} (verified) → ${file}`)
    expect(sha(await readFile(file))).toBe(sha(bytes))
    const tokens = tokensOf(media.id)
    expect(Object.keys(tokens)).toEqual(['number'])
    expect(tokens.number).toBeGreaterThanOrEqual(2)
  })

  it('without the flag uses WHATSAPP_ACCESS_TOKEN', async () => {
    const bytes = randomBytes(5000)
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/png' })
    const run = await runCli(['fetch', media.id, '-o', path.join(dir, 'default.png')], cliEnv())
    expect(run.code, run.stderr).toBe(0)
    const tokens = tokensOf(media.id)
    expect(Object.keys(tokens)).toEqual(['default'])
    expect(tokens.default).toBeGreaterThanOrEqual(2)
  })

  it('a number without a token of its own falls back to WHATSAPP_ACCESS_TOKEN', async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(2000), mimeType: 'image/jpeg', phoneNumberId: OTHER })
    const run = await runCli(['fetch', '--phone-number-id', OTHER, media.id, '-o', path.join(dir, 'other.jpg')], cliEnv())
    expect(run.code, run.stderr).toBe(0)
    expect(Object.keys(tokensOf(media.id))).toEqual(['default'])
  })

  it('removes the partial file and writes no output when the bytes fail verification', async () => {
    const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(20_000), mimeType: 'image/jpeg' })
    h.emulator.setFaults(media.id, { wrongHash: true })
    const file = path.join(dir, 'corrupt.jpg')
    const run = await runCli(['fetch', media.id, '-o', file], cliEnv())
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^mediagate: integrity: /m)
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(readFile(`${file}.partial`)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
