/**
 * The Library examples of docs/integration.md are the files in examples/: this test checks the
 * page shows them verbatim (so it cannot rot), typechecks them, and runs each against the emulator.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { signPayload } from '../../src/platforms/signature.js'
import { downloadMedia } from '../../examples/download-media.js'
import { startEmbeddedGateway } from '../../examples/embedded-gateway.js'
import { startOnOwnBackends } from '../../examples/own-backends.js'
import { handleMetaWebhook } from '../../examples/verify-and-parse.js'

const ROOT = new URL('../../', import.meta.url)
const EXAMPLES = ['verify-and-parse.ts', 'download-media.ts', 'embedded-gateway.ts', 'own-backends.ts', 'upload-media.ts']

/** The ```ts blocks of the "## Library" section of docs/integration.md. */
function libraryBlocks(): string[] {
  const readme = readFileSync(new URL('docs/integration.md', ROOT), 'utf8')
  const start = readme.indexOf('\n## Library\n')
  expect(start, 'docs/integration.md has a "## Library" section').toBeGreaterThan(0)
  const end = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, end === -1 ? undefined : end)
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
}

let emulator: Emulator
let dir: string
beforeAll(async () => {
  emulator = await startEmulator({ accessToken: 'example-access-token', appSecret: 'example-app-secret' })
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-examples-'))
})
afterAll(async () => {
  await emulator?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('library examples (docs/integration.md)', () => {
  it('docs/integration.md shows each example file verbatim (importing from "mediagate")', () => {
    const blocks = libraryBlocks()
    expect(blocks).toHaveLength(EXAMPLES.length)
    EXAMPLES.forEach((name, i) => {
      const source = readFileSync(new URL(`examples/${name}`, ROOT), 'utf8').replaceAll("'../src/index.js'", "'mediagate'")
      expect(blocks[i], `docs/integration.md block ${i + 1} differs from examples/${name}`).toBe(source)
    })
  })

  // A whole TypeScript program over src/: bounded work, slow only on a loaded machine.
  it('typecheck under the project settings', { timeout: 180_000 }, () => {
    const configPath = new URL('tsconfig.json', ROOT).pathname
    const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, path.dirname(configPath))
    const files = EXAMPLES.map((name) => new URL(`examples/${name}`, ROOT).pathname)
    const program = ts.createProgram(files, { ...parsed.options, noEmit: true })
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(d.file.fileName))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    expect(problems).toEqual([])
  })

  it('verify-and-parse: a signed webhook gives its media; a wrong signature gives 401', () => {
    const payload = whatsappMessage({ media: { type: 'image', id: '123456', mime_type: 'image/jpeg', sha256: 'abc=' } })
    const body = Buffer.from(JSON.stringify(payload))
    const ok = handleMetaWebhook(body, signPayload(body, 'example-app-secret'), 'example-app-secret')
    expect(ok.status).toBe(200)
    expect(ok.media).toMatchObject([{ platform: 'whatsapp', kind: 'image', sourceMediaId: '123456' }])
    expect(handleMetaWebhook(body, signPayload(body, 'another-secret'), 'example-app-secret')).toEqual({ status: 401, media: [] })
  })

  it('download-media: streams one media id to a file and checks its sha256', async () => {
    const bytes = randomBytes(20_000)
    const media = emulator.addWhatsAppMedia({ bytes, mimeType: 'image/png' })
    const file = path.join(dir, 'out.bin')
    const result = await downloadMedia(media.id, file, { accessToken: 'example-access-token', graphUrl: emulator.url, allowedHosts: [new URL(emulator.url).hostname] })
    expect(result.size).toBe(bytes.length)
    expect((await readFile(file)).equals(bytes)).toBe(true)
    await expect(downloadMedia(media.id, file, { accessToken: 'wrong', graphUrl: emulator.url, allowedHosts: [new URL(emulator.url).hostname] })).rejects.toMatchObject({ code: 'auth' })
  })

  it('embedded-gateway: captures a webhook in-process', async () => {
    const gateway = await startEmbeddedGateway({
      MEDIAGATE_DATA_DIR: path.join(dir, 'gateway'),
      META_APP_SECRET: 'example-app-secret',
      WHATSAPP_ACCESS_TOKEN: 'example-access-token',
      META_GRAPH_URL: emulator.url,
      MEDIAGATE_ALLOWED_HOSTS: new URL(emulator.url).hostname,
      MEDIAGATE_API_KEY: 'example-api-key-0123456789',
      MEDIAGATE_LOG_LEVEL: 'silent',
    })
    try {
      const bytes = randomBytes(3000)
      const media = emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
      const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
      const body = Buffer.from(JSON.stringify(payload))
      const res = await fetch(`${gateway.url}/webhooks/meta`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, 'example-app-secret') } })
      expect(res.status).toBe(200)
      let status = 'pending'
      for (let i = 0; i < 200 && status === 'pending'; i++) {
        await new Promise((r) => setTimeout(r, 25))
        const page = await gateway.catalog.list({ messageId: (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id }, { limit: 10 })
        status = page.data[0]?.status ?? 'pending'
      }
      expect(status).toBe('stored')
    } finally {
      await gateway.close()
    }
  })

  it('own-backends: the gateway captures into the catalog and blob store it was given, and leaves them open', async () => {
    const databaseUrl = `sqlite:${path.join(dir, 'own', 'catalog.db')}`
    const storageUrl = `file:${path.join(dir, 'own', 'blobs')}`
    const { gateway, catalog, blobs } = await startOnOwnBackends(
      {
        // The configured backends are elsewhere: nothing may be written there.
        MEDIAGATE_DATA_DIR: path.join(dir, 'not-used'),
        META_APP_SECRET: 'example-app-secret',
        WHATSAPP_ACCESS_TOKEN: 'example-access-token',
        META_GRAPH_URL: emulator.url,
        MEDIAGATE_ALLOWED_HOSTS: new URL(emulator.url).hostname,
        MEDIAGATE_API_KEY: 'example-api-key-0123456789',
        MEDIAGATE_LOG_LEVEL: 'silent',
      },
      databaseUrl,
      storageUrl,
    )
    try {
      expect(gateway.catalog).toBe(catalog)
      expect(gateway.blobs).toBe(blobs)
      expect(Object.keys(gateway).sort()).toEqual(['app', 'blobs', 'catalog', 'close', 'config', 'start', 'url'])
      const bytes = randomBytes(2500)
      const media = emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
      const payload = whatsappMessage({ media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
      const body = Buffer.from(JSON.stringify(payload))
      const res = await fetch(`${gateway.url}/webhooks/meta`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, 'example-app-secret') } })
      expect(res.status).toBe(200)
      const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
      let record
      for (let i = 0; i < 200 && record?.status !== 'stored'; i++) {
        await new Promise((r) => setTimeout(r, 25))
        record = (await catalog.list({ messageId: wamid }, { limit: 1 })).data[0]
      }
      expect(record?.status).toBe('stored')
      expect(await blobs.stat(record!.blobKey!)).toEqual({ key: record!.blobKey, size: bytes.length })
    } finally {
      await gateway.close()
    }
    // Still open: the gateway closes only what it opened itself.
    expect((await catalog.counts()).reduce((n, c) => n + c.count, 0)).toBe(1)
    await catalog.close()
    await blobs.close()
    await expect(readFile(path.join(dir, 'not-used', 'mediagate.db'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
