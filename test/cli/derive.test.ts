/** `mediagate derive` (the backfill) and `mediagate doctor`'s derivatives line, as the real binary beside a running gateway. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleJpeg, samplePdf } from '../../src/emulator/sample-media.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { openCpuPressure } from '../../src/jobs/cpu-pressure.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { runCli } from '../helpers/run-cli.js'

let h: Harness
let env: Record<string, string>

async function store(bytes: Buffer, type: 'image' | 'document', mimeType: string): Promise<MediaJson> {
  const media = h.emulator.addWhatsAppMedia({ bytes, mimeType })
  const payload = whatsappMessage({ media: { type, id: media.id, mime_type: mimeType, sha256: media.sha256 } })
  await h.postWebhook(payload)
  const [m] = await h.mediaOf((payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id)
  return (await h.settled([m!.id]))[0]!
}

beforeAll(async () => {
  // Stored before derivation was on: nothing is queued for them.
  h = await startHarness({ env: { MEDIAGATE_DERIVE: '0' } })
  env = { MEDIAGATE_DATA_DIR: h.dataDir, MEDIAGATE_API_KEY: API_KEY }
})
afterAll(async () => h?.close())

describe('mediagate derive', () => {
  it('makes what stored media lack, with a summary; a second run finds them complete; --kind narrows', async () => {
    const image = await store(sampleJpeg(301), 'image', 'image/jpeg')
    const pdf = await store(samplePdf(302), 'document', 'application/pdf')
    expect(image.derivatives).toBeNull()
    const first = await runCli(['derive'], env, 60_000)
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(/derived 1 media, 1 skipped .*, 0 failed .*, 0 already complete, 0 errors/)
    const after = (await (await h.api(`/v1/media/${image.id}`)).json()) as MediaJson
    expect(after).toMatchObject({ width: 1600, height: 1200, derivatives: { status: 'done', error: null } })
    expect(((await (await h.api(`/v1/media/${pdf.id}`)).json()) as MediaJson).derivatives?.status).toBe('skipped')
    expect((await h.api(`/v1/media/${image.id}/thumbnail`)).status).toBe(200)
    const again = await runCli(['derive', '--since', '2000-01-01'], env, 60_000)
    expect(again.stdout).toMatch(/derived 0 media, .* 2 already complete/)
    const none = await runCli(['derive', '--kind', 'video'], env, 60_000)
    expect(none.stdout).toMatch(/derived 0 media, 0 skipped .* 0 already complete/)
    const bad = await runCli(['derive', '--since', 'yesterday'], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--since must be a date')
  })

  it('doctor says whether ffmpeg is there and how to enable it', async () => {
    const found = await runCli(['doctor'], env)
    expect(found.stdout).toMatch(/derivatives\s+.*ffmpeg/)
    const missing = await runCli(['doctor', '--ffmpeg', '/nonexistent/ffmpeg'], env)
    expect(missing.stdout).toMatch(/\[WARN\] derivatives .*apt-get install ffmpeg \(or set MEDIAGATE_FFMPEG\)/)
  })

  it('doctor says whether queued derivations can wait for a contended CPU, and what is off where they cannot', async () => {
    const here = openCpuPressure()
    const on = await runCli(['doctor', '--derive-yield-pressure', '40'], env)
    if (here) expect(on.stdout).toContain(`[ ok ] derive yield   queued derivations wait while CPU pressure is 40 % or more (${here.source}), for at most 30 s`)
    else expect(on.stdout).toMatch(/\[WARN\] derive yield +CPU pressure cannot be read here .*CONFIG_PSI/)
    const off = await runCli(['doctor', '--derive-yield-pressure', '0'], env)
    expect(off.stdout).toContain('[ ok ] derive yield   off (MEDIAGATE_DERIVE_YIELD_PRESSURE=0)')
  })
})
