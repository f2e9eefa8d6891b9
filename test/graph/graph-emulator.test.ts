/**
 * GraphMediaClient against the project's Meta emulator (src/emulator), the way sandbox mode and
 * the e2e suites wire them: the emulator's http://127.0.0.1 URL is Graph and the lookaside at once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MediagateError } from '../../src/errors.js'
import { startEmulator, type Emulator } from '../../src/emulator/index.js'
import { Fetcher, readBody } from '../../src/fetch/index.js'
import { GraphMediaClient, normalizeSha256 } from '../../src/platforms/graph/index.js'
import { startServer, type TestServer } from '../fetch/test-server.js'

const TOKEN = 'sandbox-emulator-token-0123456789'
const BYTES = Buffer.from('a small media body for the emulator')

let emulator: Emulator
let elsewhere: TestServer
let fetcher: Fetcher
let client: GraphMediaClient

beforeAll(async () => {
  emulator = await startEmulator({ accessToken: TOKEN, appSecret: 'app-secret' })
  elsewhere = await startServer('127.0.0.2', (_req, res) => res.end('not meta'))
  fetcher = new Fetcher({ allowedHosts: ['fbcdn.net', 'fbsbx.com', new URL(emulator.url).hostname, '127.0.0.2'], userAgent: 'mediagate-test/1' })
  client = new GraphMediaClient({ graphUrl: emulator.url, version: 'v26.0', accessToken: TOKEN, fetcher })
})
afterAll(async () => {
  await fetcher.close()
  await Promise.all([emulator.close(), elsewhere.close()])
})
afterEach(() => {
  emulator.clearFaults()
  elsewhere.requests.length = 0
})

async function failure(p: Promise<unknown>): Promise<MediagateError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(MediagateError)
  expect((err as Error).message).not.toContain(TOKEN)
  return err as MediagateError
}

describe('against the emulator', () => {
  it.each([
    ['hex', 'string'],
    ['base64', 'number'],
  ] as const)('looks up (sha256 %s, file_size as %s) and downloads the exact bytes', async (sha256Encoding, fileSizeType) => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/jpeg', sha256Encoding, fileSizeType })
    const info = await client.lookup(media.id)
    expect(info.id).toBe(media.id)
    expect(info.mimeType).toBe('image/jpeg')
    expect(info.fileSize).toBe(BYTES.length)
    expect(info.sha256).toBe(sha256Encoding === 'hex' ? media.sha256Hex : media.sha256Base64)
    expect(normalizeSha256(info.sha256)).toBe(media.sha256Hex)
    const res = await client.download(info.url, { maxBytes: 1024 })
    expect(await readBody(res, 1024)).toEqual(BYTES)
  })

  it('an unknown id is source_expired', async () => {
    expect(await failure(client.lookup('1234567890123456'))).toMatchObject({ code: 'source_expired', vendorCode: 100 })
  })

  it('a wrong token is auth', async () => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/png' })
    const wrong = new GraphMediaClient({ graphUrl: emulator.url, version: 'v26.0', accessToken: 'wrong-token', fetcher })
    expect(await failure(wrong.lookup(media.id))).toMatchObject({ code: 'auth', vendorCode: 190 })
  })

  it.each([4, 80007, 130429])('Graph code %i with Retry-After is rate_limited with retryAfterMs', async (graphErrorCode) => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/jpeg' })
    emulator.setFaults(media.id, { graphErrorCode, retryAfterSeconds: 9 })
    expect(await failure(client.lookup(media.id))).toMatchObject({ code: 'rate_limited', vendorCode: graphErrorCode, retryAfterMs: 9000 })
  })

  it('Graph code 190 is auth and a 5xx is upstream', async () => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/jpeg' })
    emulator.setFaults(media.id, { graphErrorCode: 190 })
    expect((await failure(client.lookup(media.id))).code).toBe('auth')
    emulator.setFaults(media.id, { lookupStatus: 503 })
    expect((await failure(client.lookup(media.id))).code).toBe('upstream')
  })

  it('an expired download URL (404) is source_expired and retryable; a fresh lookup works', async () => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/jpeg' })
    emulator.setFaults(media.id, { expired: true, times: 1 })
    const first = await client.lookup(media.id)
    expect(await failure(client.download(first.url))).toMatchObject({ code: 'source_expired', retryable: true, vendorCode: 404 })
    const again = await client.lookup(media.id)
    expect(await readBody(await client.download(again.url), 1024)).toEqual(BYTES)
  })

  it('a download 5xx is upstream and a too-large announcement is too_large', async () => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/jpeg' })
    const info = await client.lookup(media.id)
    emulator.setFaults(media.id, { downloadStatus: 500, times: 1 })
    expect((await failure(client.download(info.url))).code).toBe('upstream')
    expect((await failure(client.download(info.url, { maxBytes: 4 }))).code).toBe('too_large')
  })

  it('a redirect to another host does not carry the token', async () => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/jpeg' })
    emulator.setFaults(media.id, { redirectTo: `${elsewhere.url}/stolen` })
    const info = await client.lookup(media.id)
    expect((await readBody(await client.download(info.url), 100)).toString()).toBe('not meta')
    expect(elsewhere.requests).toHaveLength(1)
    expect(elsewhere.requests[0]?.headers.authorization).toBeUndefined()
  })

  it('a redirect to a private address is refused before connecting', async () => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/jpeg' })
    emulator.setFaults(media.id, { redirectTo: 'http://169.254.169.254/latest/meta-data/iam' })
    const info = await client.lookup(media.id)
    expect((await failure(client.download(info.url))).code).toBe('host_not_allowed')
  })

  it('deletes media and checks the token', async () => {
    const media = emulator.addWhatsAppMedia({ bytes: BYTES, mimeType: 'image/jpeg' })
    await client.deleteMedia(media.id)
    expect((await failure(client.lookup(media.id))).code).toBe('source_expired')
    expect((await client.me()).id).toMatch(/^\d+$/)
  })
})
