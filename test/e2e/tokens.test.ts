/**
 * Access tokens per WhatsApp number from mediagate.config.json: the emulator accepts only the
 * per-number token and WHATSAPP_ACCESS_TOKEN is wrong, so media for the configured number is
 * stored with its own token and media for any other number fails `auth` with the fallback.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadAccountTokens, parseAccountTokens } from '../../src/config/config-file.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const NUMBER_TOKEN = 'per-number-token-0123456789'
const CONFIGURED = '111111111111111'
const OTHER = '222222222222222'

let h: Harness
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-tokens-'))
  const file = path.join(dir, 'mediagate.config.json')
  await writeFile(file, JSON.stringify({ whatsapp: { [CONFIGURED]: { access_token: NUMBER_TOKEN } }, pages: { '333': { access_token: 'page-token' } } }))
  h = await startHarness({ emulator: { accessToken: NUMBER_TOKEN }, env: { WHATSAPP_ACCESS_TOKEN: 'wrong-fallback-token', MEDIAGATE_CONFIG_FILE: file } })
})
afterAll(async () => {
  await h?.close()
  await rm(dir, { recursive: true, force: true })
})

async function sendTo(phoneNumberId: string) {
  const media = h.emulator.addWhatsAppMedia({ bytes: randomBytes(2000), mimeType: 'image/jpeg' })
  const payload = whatsappMessage({ phoneNumberId, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
  const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
  expect((await h.postWebhook(payload)).status).toBe(200)
  const [record] = await h.mediaOf(wamid)
  const [settled] = await h.settled([record!.id])
  return settled!
}

describe('tokens per WhatsApp number', () => {
  it('uses the number’s own token, and falls back to WHATSAPP_ACCESS_TOKEN for other numbers', async () => {
    const [mine, other] = await Promise.all([sendTo(CONFIGURED), sendTo(OTHER)])
    expect(mine).toMatchObject({ status: 'stored', account_id: CONFIGURED })
    expect(other).toMatchObject({ status: 'failed', account_id: OTHER })
    expect(other.error?.code).toBe('auth')
  })
})

/**
 * Which token Meta received, on every path that talks to it about a media. The emulator accepts
 * both tokens here and counts each media's lookups and downloads by the token's label, so a path
 * that picked the global token where the number has its own shows up as `default`.
 */
describe.each(['eager', 'lazy', 'proxy'] as const)('the number’s own token reaches Meta (%s policy)', (policy) => {
  const DEFAULT_TOKEN = 'global-whatsapp-token-0123456789'
  let t: Harness
  beforeAll(async () => {
    const file = path.join(dir, `tokens-${policy}.json`)
    await writeFile(file, JSON.stringify({ whatsapp: { [CONFIGURED]: { access_token: NUMBER_TOKEN } } }))
    t = await startHarness({
      emulator: { accessToken: DEFAULT_TOKEN, extraAccessTokens: { number: NUMBER_TOKEN } },
      env: { WHATSAPP_ACCESS_TOKEN: DEFAULT_TOKEN, MEDIAGATE_CONFIG_FILE: file, MEDIAGATE_POLICY_WHATSAPP: policy },
    })
  })
  afterAll(async () => t?.close())

  async function fetchOne(phoneNumberId: string): Promise<{ tokens: Record<string, number>; status: string }> {
    const bytes = randomBytes(3000)
    const media = t.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg', phoneNumberId })
    // No webhook `url`: every path has to resolve the id through Graph, then download.
    const payload = whatsappMessage({ phoneNumberId, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    expect((await t.postWebhook(payload)).status).toBe(200)
    const [record] = await t.mediaOf(wamid)
    let status = record!.status
    if (policy === 'eager') status = (await t.settled([record!.id]))[0]!.status
    else {
      const res = await t.api(`/v1/media/${record!.id}/content`)
      expect(res.status).toBe(200)
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true)
    }
    return { tokens: t.emulator.stats().byMedia[media.id]?.tokens ?? {}, status }
  }

  it('uses the number’s token from mediagate.config.json for its media, and only that one', async () => {
    const { tokens, status } = await fetchOne(CONFIGURED)
    if (policy === 'eager') expect(status).toBe('stored')
    expect(tokens.number).toBeGreaterThanOrEqual(2) // a lookup and a download
    expect(tokens.default).toBeUndefined()
  })

  it('falls back to WHATSAPP_ACCESS_TOKEN for a number without a token of its own', async () => {
    const { tokens } = await fetchOne(OTHER)
    expect(tokens.default).toBeGreaterThanOrEqual(2)
    expect(tokens.number).toBeUndefined()
  })
})

describe('mediagate.config.json validation', () => {
  it('reports every problem by its path, never a token', () => {
    let message = ''
    try {
      parseAccountTokens({ whatsapp: { abc: { access_token: 'secret-token-1' }, '123': { token: 'secret-token-2' } }, pages: [], extra: 1 }, 'mediagate.config.json')
    } catch (err) {
      message = (err as Error).message
      expect(err).toMatchObject({ code: 'invalid_config' })
    }
    expect(message).toContain('"whatsapp"."abc": the key must be a numeric phone_number_id')
    expect(message).toContain('"whatsapp"."123": must be {"access_token": "<token>"}')
    expect(message).toContain('"pages": must be an object')
    expect(message).toContain('"extra": unknown key')
    expect(message).not.toContain('secret-token')
  })

  it('reads the default file only if it exists; a configured file must exist and be JSON', async () => {
    expect(loadAccountTokens(undefined, dir).whatsapp.get(CONFIGURED)).toBe(NUMBER_TOKEN)
    expect(loadAccountTokens(undefined, path.join(dir, 'nowhere')).whatsapp.size).toBe(0)
    expect(() => loadAccountTokens(path.join(dir, 'missing.json'))).toThrow(/MEDIAGATE_CONFIG_FILE: cannot read/)
    const bad = path.join(dir, 'bad.json')
    await writeFile(bad, '{"whatsapp": ')
    expect(() => loadAccountTokens(bad)).toThrow(/is not valid JSON/)
  })
})
