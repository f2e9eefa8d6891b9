/** `mediagate delete --sender`, spawned as the real binary beside a running gateway: a data-subject erasure. */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { runCli } from '../helpers/run-cli.js'

let h: Harness
let env: Record<string, string>
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function capture(bytes: Buffer, sender: { from: string | null; userId: string }): Promise<MediaJson> {
  const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
  const payload = whatsappMessage({ ...sender, media: { type: 'image', id: media.id, mime_type: 'image/jpeg', sha256: media.sha256 } })
  await h.postWebhook(payload)
  const [m] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
  return (await h.settled([m!.id]))[0]!
}

beforeAll(async () => {
  h = await startHarness()
  env = { MEDIAGATE_DATA_DIR: h.dataDir, MEDIAGATE_API_KEY: API_KEY }
})
afterAll(async () => h?.close())

describe('mediagate delete --sender', () => {
  it('erases every media of the sender, blobs included, and says how many; ids and --sender together are refused', async () => {
    const bytes = randomBytes(2000)
    const mine = await capture(bytes, { from: null, userId: 'US.10000000000000000001' })
    const alsoMine = await capture(randomBytes(2000), { from: '16505550300', userId: 'US.10000000000000000001' })
    const theirs = await capture(randomBytes(2000), { from: '16505550301', userId: 'US.10000000000000000002' })
    expect([mine.status, alsoMine.status, theirs.status]).toEqual(['stored', 'stored', 'stored'])

    const run = await runCli(['delete', '--sender', 'US.10000000000000000001', '--platform', 'whatsapp'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('erased 2 media of sender US.10000000000000000001 on whatsapp')
    const statuses = await Promise.all([mine, alsoMine, theirs].map(async (m) => ((await (await h.api(`/v1/media/${m.id}`)).json()) as MediaJson).status))
    expect(statuses).toEqual(['deleted', 'deleted', 'stored'])
    expect(await h.gateway.blobs.stat(blobKeyFor(sha(bytes)))).toBeUndefined()

    const both = await runCli(['delete', theirs.id, '--sender', 'US.10000000000000000002'], env)
    expect(both.code).toBe(1)
    expect(both.stderr).toMatch(/^mediagate: bad_request: /m)
    const wrongPlatform = await runCli(['delete', '--sender', 'x', '--platform', 'sms'], env)
    expect(wrongPlatform.code).toBe(1)
    expect(((await (await h.api(`/v1/media/${theirs.id}`)).json()) as MediaJson).status).toBe('stored')
  })
})
