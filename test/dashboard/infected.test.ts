/**
 * Infected media in the dashboard (real Chromium): the card and the detail view name the
 * signature, retry is not offered, and a release (after confirmation) brings the media back,
 * served byte for byte. The record is quarantined as a scan would (scanning/quarantine.ts); the
 * scan itself is tested against a real clamd in test/e2e/malware-scanning.test.ts.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { samplePdf } from '../../src/emulator/sample-media.js'
import { whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import { quarantineInfected } from '../../src/scanning/quarantine.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { IN_CI } from '../helpers/services.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = 'test-artifacts/dashboard'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) {
  const message = `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`
  if (IN_CI) throw new Error(`${message} (CI requires it)`)
  console.warn(`SKIPPED: the dashboard infected-media suite; ${message}`)
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe.skipIf(!hasChromium)('infected media in the dashboard', () => {
  let h: Harness
  let browser: Browser
  let page: Page
  let id = ''
  const bytes = samplePdf(5)
  const dialogs: string[] = []

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    h = await startHarness()
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: 'application/pdf' })
    const payload = whatsappMessage({ media: { type: 'document', id: media.id, mime_type: 'application/pdf', sha256: media.sha256, filename: 'invoice.pdf' } })
    expect((await h.postWebhook(payload)).status).toBe(200)
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    id = (await h.mediaOf(wamid))[0]!.id
    const [stored] = await h.settled([id])
    expect(stored!.status).toBe('stored')
    const record = (await h.gateway.catalog.get(id))!
    await quarantineInfected({ blobs: h.gateway.blobs, catalog: h.gateway.catalog }, record.blobKey!, {
      status: 'infected',
      engine: 'ClamAV 1.4.3/27843/test',
      scannedAt: new Date(),
      signature: 'Mediagate.Test.Dashboard.UNOFFICIAL',
      releasedAt: null,
    })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(10_000)
    page.on('dialog', (d) => {
      dialogs.push(d.message())
      void (d.type() === 'confirm' && d.message().startsWith('Release ') ? d.accept() : d.dismiss())
    })
    await page.goto(h.gateway.url!)
    await page.locator('#signin').waitFor({ state: 'visible' })
    await page.fill('#api-key', API_KEY)
    await page.click('#signin-form button[type=submit]')
    await page.locator('#media').waitFor({ state: 'visible' })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await h?.close()
  })

  it('shows the signature on the card and in the detail view, and offers release and delete, not retry', async () => {
    const card = page.locator(`#gallery li.card[data-id="${id}"]`)
    await expect.poll(() => card.getAttribute('data-status')).toBe('failed')
    expect(await card.locator('.error').textContent()).toBe('infected: Mediagate.Test.Dashboard.UNOFFICIAL')
    await card.locator('button.title').click()
    const detail = page.locator('#detail')
    await detail.waitFor({ state: 'visible' })
    await expect.poll(() => detail.locator('#detail-infected').textContent()).toContain('Infected: Mediagate.Test.Dashboard.UNOFFICIAL')
    expect(await detail.locator('dd[data-field="scan.signature"]').textContent()).toBe('Mediagate.Test.Dashboard.UNOFFICIAL')
    expect(await detail.locator('#detail-retry').count()).toBe(0)
    expect(await detail.locator('#detail-download').count()).toBe(0)
    expect(await detail.locator('#detail-release').count()).toBe(1)
    expect(await detail.locator('#detail-delete').count()).toBe(1)
    await page.screenshot({ path: `${ARTIFACTS}/infected.png` })
  })

  it('releases it after confirmation: stored and served again', async () => {
    await page.click('#detail-release')
    const detail = page.locator('#detail')
    await expect.poll(() => detail.locator('dd[data-field="status"]').textContent(), { timeout: 15_000 }).toBe('stored')
    expect(await detail.locator('#detail-infected').count()).toBe(0)
    expect(dialogs.some((d) => d.startsWith(`Release invoice.pdf (${id})?`))).toBe(true)
    const content = await h.api(`/v1/media/${id}/content`)
    expect(content.status).toBe(200)
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(bytes))
    const record = await (await h.api(`/v1/media/${id}`)).json()
    expect(record).toMatchObject({ status: 'stored', scan: { status: 'skipped', signature: 'Mediagate.Test.Dashboard.UNOFFICIAL' } })
    // Releasing twice is refused with the reason.
    const again = await h.api(`/v1/media/${id}/release`, { method: 'POST' })
    expect(again.status).toBe(409)
  })
})
