/**
 * `POST /v1/media` with scanning on: the upload is scanned by a real clamd before the 201, an
 * infected one answers 422 `infected`, is never stored or served, and leaves no bytes behind.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clamdAvailable, startClamd, type TestClamd } from '../helpers/clamd.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const INFECTED = Buffer.from(`mediagate outbound test malware ${randomBytes(8).toString('hex')}\n`)

async function files(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) if (e.isFile()) found.push(e.name)
  return found
}

describe.skipIf(!clamdAvailable())('outbound media with a real clamd', () => {
  let clamd: TestClamd
  let h: Harness
  beforeAll(async () => {
    clamd = await startClamd({ signatures: [{ name: 'Mediagate.Test.Outbound', bytes: INFECTED }] })
    h = await startHarness({ env: { MEDIAGATE_CLAMAV_URL: clamd.url, MEDIAGATE_CLAMAV_TIMEOUT_MS: '2000', MEDIAGATE_DERIVE: '0' } })
  }, 90_000)
  afterAll(async () => {
    await h?.close()
    await clamd?.close()
  })

  it('a clean upload is scanned before the 201; an infected one answers 422 infected and stores nothing', async () => {
    const clean = randomBytes(20_000)
    const ok = await h.api('/v1/media', { method: 'POST', body: clean, headers: { 'content-type': 'application/pdf' } })
    expect(ok.status).toBe(201)
    expect(await ok.json()).toMatchObject({ status: 'stored', direction: 'outbound', sha256: createHash('sha256').update(clean).digest('hex'), scan: { status: 'clean' } })

    const bad = await h.api('/v1/media', { method: 'POST', body: INFECTED, headers: { 'content-type': 'text/plain' } })
    expect(bad.status).toBe(422)
    const error = ((await bad.json()) as { error: { code: string; message: string } }).error
    expect(error.code).toBe('infected')
    expect(error.message).toContain('Mediagate.Test.Outbound')
    const infectedSha = createHash('sha256').update(INFECTED).digest('hex')
    const blobs = await files(path.join(h.dataDir, 'blobs'))
    expect(blobs).toContain(createHash('sha256').update(clean).digest('hex'))
    expect(blobs).not.toContain(infectedSha)
    const stored = await h.gateway.catalog.list({ status: 'stored' }, { limit: 100 })
    expect(stored.data.some((m) => m.sha256 === infectedSha)).toBe(false)
  })
})
