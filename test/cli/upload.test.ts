/**
 * `mediagate upload` as the real binary, beside a running gateway on the same data: the file is
 * stored as outbound media and uploaded to the emulated Meta once; a second upload of the same
 * bytes reuses the cached handle. The library's `uploadMedia` is the same operation.
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { uploadMedia } from '../../src/index.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { runCli } from '../helpers/run-cli.js'

let h: Harness
let env: Record<string, string>
beforeAll(async () => {
  h = await startHarness()
  env = { MEDIAGATE_DATA_DIR: h.dataDir, WHATSAPP_ACCESS_TOKEN: h.emulator.accessToken, META_GRAPH_URL: h.emulator.url, MEDIAGATE_API_KEY: API_KEY, MEDIAGATE_ALLOWED_HOSTS: '127.0.0.1' }
})
afterAll(async () => h?.close())

describe('mediagate upload', () => {
  it('prints the record id and the handle; the same bytes again reuse it', async () => {
    const file = path.join(h.dataDir, 'doc.pdf')
    await writeFile(file, Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(3000)]))
    const before = h.emulator.stats().uploads
    const first = await runCli(['upload', file, '--whatsapp', '123456789'], env)
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const [id, handle] = first.stdout.trim().split('\t')
    expect(id).toMatch(/^med_/)
    expect(handle).toMatch(/^\d+$/)
    expect(h.emulator.stats().uploads).toBe(before + 1)
    const record = (await (await h.api(`/v1/media/${id}`)).json()) as Record<string, unknown>
    expect(record).toMatchObject({ direction: 'outbound', status: 'stored', mime_type: 'application/pdf' })
    const second = await runCli(['upload', file, '--whatsapp', '123456789'], env)
    expect(second.stdout.trim().split('\t')[1]).toBe(handle)
    expect(h.emulator.stats().uploads).toBe(before + 1)
    const plain = await runCli(['upload', file], env)
    expect(plain.stdout.trim()).toMatch(/^med_\w+$/)
    const bad = await runCli(['upload', file, '--whatsapp', '1', '--messenger', '2'], env)
    expect(bad.code).not.toBe(0)
  })

  it('the library exports the same operation', async () => {
    const file = path.join(h.dataDir, 'lib.pdf')
    await writeFile(file, Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(2000)]))
    const result = await uploadMedia(loadConfig({ env: { ...env, META_APP_SECRET: h.emulator.appSecret, META_VERIFY_TOKEN: 'verify', MEDIAGATE_LOG_LEVEL: 'silent' } }), file, { handle: { platform: 'whatsapp', accountId: '123456789' } })
    expect(result.media).toMatchObject({ direction: 'outbound', status: 'stored' })
    expect(result.handle).toMatchObject({ reused: false, converted: false })
    expect(await h.gateway.catalog.get(result.media.id)).toMatchObject({ status: 'stored' })
  })
})
