/**
 * The dashboard as the person on call uses it, in Chromium against a gateway fed by the
 * emulator: readable cards, the "N new" bar, search and filters kept in the URL, a failed
 * media's summary and whether retrying helps, bulk actions with their confirmation, and the
 * header on a phone. Screenshots go to test-artifacts/dashboard/.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleJpeg, sampleOgg, samplePdf } from '../../src/emulator/sample-media.js'
import { messengerMessage, whatsappMessage } from '../../src/emulator/webhook-payloads.js'
import type { FaultSpec } from '../../src/emulator/faults.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { API_KEY, type Harness, startHarness } from '../helpers/harness.js'
import { IN_CI } from '../helpers/services.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = 'test-artifacts/dashboard'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium && IN_CI) throw new Error(`${CHROMIUM} is missing (CI requires it)`)

describe.skipIf(!hasChromium)('the dashboard for the person on call', () => {
  let h: Harness
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const pageErrors: string[] = []
  const ids = { parcel: '', voice: '', auth: '', expired: '', integrity: '', invoice: '', bulk1: '', bulk2: '' }
  const wamids: Record<string, string> = {}
  let authMediaId = ''
  let nonce = 100

  async function whatsapp(key: keyof typeof ids | null, from: string, type: 'image' | 'audio' | 'document', extra: Record<string, unknown> = {}, faults?: FaultSpec): Promise<string> {
    const [bytes, mime] = type === 'image' ? [sampleJpeg(nonce++), 'image/jpeg'] : type === 'audio' ? [sampleOgg(nonce++), 'audio/ogg; codecs=opus'] : [samplePdf(nonce++), 'application/pdf']
    const media = h.emulator.addWhatsAppMedia({ bytes, mimeType: mime })
    if (faults) h.emulator.setFaults(media.id, faults)
    if (key === 'auth') authMediaId = media.id
    const payload = whatsappMessage({ from, media: { type, id: media.id, mime_type: mime, sha256: media.sha256, ...extra } })
    const wamid = (payload.entry[0]!.changes[0]!.value.messages![0] as { id: string }).id
    expect((await h.postWebhook(payload)).status).toBe(200)
    const [m] = await h.mediaOf(wamid)
    if (key) {
      ids[key] = m!.id
      wamids[key] = wamid
    }
    return m!.id
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    h = await startHarness()
    await whatsapp('invoice', '15551234567', 'document', { filename: 'invoice-2291.pdf' })
    await whatsapp('bulk1', '33600000001', 'image', { caption: 'bulk candidate one' })
    await whatsapp('bulk2', '33600000001', 'image', { caption: 'bulk candidate two' })
    await whatsapp('auth', '15559876543', 'image', { caption: 'receipt' }, { graphErrorCode: 190 })
    const expired = h.emulator.addCdnMedia({ platform: 'messenger', bytes: sampleJpeg(nonce++), mimeType: 'image/jpeg' })
    h.emulator.setFaults(expired.id, { expired: true })
    const payload = messengerMessage({ psid: '6198765432109876', attachments: [{ type: 'image', url: expired.url! }] })
    expect((await h.postWebhook(payload)).status).toBe(200)
    ids.expired = (await h.mediaOf(payload.entry[0]!.messaging[0]!.message!.mid as string))[0]!.id
    await whatsapp('integrity', '33700000002', 'image', { caption: 'delivery photo' }, { wrongHash: true })
    await whatsapp('voice', '4915112345678', 'audio', { voice: true })
    await whatsapp('parcel', '447700900123', 'image', { caption: 'Damaged parcel, box 3 of 4' })
    const settled = await h.settled(Object.values(ids))
    expect(Object.fromEntries(settled.map((m) => [m.id, m.status]))).toEqual(
      Object.fromEntries(Object.entries(ids).map(([k, id]) => [id, k === 'auth' || k === 'expired' || k === 'integrity' ? 'failed' : 'stored'])),
    )

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
    page.setDefaultTimeout(10_000)
    page.on('pageerror', (err) => pageErrors.push(err.message))
    page.on('dialog', (d) => void d.dismiss())
  })

  afterAll(async () => {
    await browser?.close()
    await h?.close()
  })

  const cards = () => page.locator('#gallery li.card')
  const card = (id: string) => page.locator(`#gallery li.card[data-id="${id}"]`)
  const shownIds = () => cards().evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))
  /** A poll round now, instead of waiting up to 5 s for the timer. */
  const pollNow = () => page.evaluate("window.dispatchEvent(new Event('focus'))")
  async function search(text: string): Promise<void> {
    await page.fill('input[name=q]', text)
    await page.press('input[name=q]', 'Enter')
  }

  it('signs in and shows cards titled by sender and caption, never by message id', async () => {
    await page.goto(h.gateway.url!)
    await page.fill('#api-key', API_KEY)
    await page.click('#signin-form button[type=submit]')
    await expect.poll(() => cards().count()).toBe(Object.keys(ids).length)
    expect(await card(ids.parcel).locator('.sender').textContent()).toBe('447700900123')
    expect(await card(ids.parcel).locator('.subject').textContent()).toBe('Damaged parcel, box 3 of 4')
    expect(await card(ids.invoice).locator('.subject').textContent()).toBe('invoice-2291.pdf')
    expect(await card(ids.expired).locator('.sender').textContent()).toBe('6198765432109876')
    expect(await card(ids.parcel).locator('.platform').textContent()).toBe('WhatsApp')
    expect(await card(ids.parcel).locator('.account').textContent()).toContain('account ')
    // The voice note is marked and plays its preview; nothing loads until it is played.
    expect(await card(ids.voice).locator('.voice-marker').count()).toBe(1)
    expect(await card(ids.voice).locator('audio').getAttribute('src')).toBe(`/v1/media/${ids.voice}/preview`)
    expect(await card(ids.voice).locator('audio').getAttribute('preload')).toBe('none')
    expect(await card(ids.parcel).locator('.voice-marker').count()).toBe(0)
    // Thumbnails, lazily; never an original in the gallery.
    const img = card(ids.parcel).locator('img')
    expect(await img.getAttribute('src')).toBe(`/v1/media/${ids.parcel}/thumbnail?size=320`)
    expect(await img.getAttribute('loading')).toBe('lazy')
    expect(await page.locator('#gallery [src*="/content"]').count()).toBe(0)
    const text = (await page.locator('#gallery').textContent()) ?? ''
    for (const wamid of Object.values(wamids)) expect(text).not.toContain(wamid)
    // Local time in the text, the UTC instant on hover.
    const record = (await (await h.api(`/v1/media/${ids.parcel}`)).json()) as MediaJson
    const time = card(ids.parcel).locator('time')
    expect(await time.getAttribute('datetime')).toBe(record.received_at)
    expect(await time.getAttribute('title')).toBe(`${record.received_at} (UTC)`)
  })

  it('offers media that arrive as an "N new" bar, leaving the list as it is until asked', async () => {
    const before = await shownIds()
    const fresh = await whatsapp(null, '447700900123', 'image', { caption: 'and the fourth box' })
    await h.settled([fresh])
    await pollNow()
    await page.locator('#new-bar').waitFor({ state: 'visible' })
    expect(await page.locator('#new-bar').textContent()).toBe('1 new — show')
    expect(await shownIds()).toEqual(before)
    await page.screenshot({ path: `${ARTIFACTS}/oncall-new-bar.png` })
    await page.click('#new-bar')
    await expect.poll(shownIds).toEqual([fresh, ...before])
    expect(await page.locator('#new-bar').isVisible()).toBe(false)
    await pollNow()
    // Nothing newer: the bar stays away.
    await page.waitForTimeout(300)
    expect(await page.locator('#new-bar').isVisible()).toBe(false)
  })

  it('searches by caption and by sender, keeps the search in the URL, and goes back', async () => {
    await search('PARCEL')
    await expect.poll(shownIds).toEqual([ids.parcel])
    expect(new URL(page.url()).searchParams.get('q')).toBe('PARCEL')
    await search('1555')
    await expect.poll(async () => (await shownIds()).sort()).toEqual([ids.invoice, ids.auth].sort())
    await search('invoice-22')
    await expect.poll(shownIds).toEqual([ids.invoice])
    await page.screenshot({ path: `${ARTIFACTS}/oncall-search.png` })
    await page.goBack()
    await expect.poll(async () => (await shownIds()).sort()).toEqual([ids.invoice, ids.auth].sort())
    expect(await page.locator('input[name=q]').inputValue()).toBe('1555')
    // A shared link opens the same view.
    await page.goto(`${h.gateway.url}/?q=PARCEL`)
    await expect.poll(shownIds).toEqual([ids.parcel])
    expect(await page.locator('input[name=q]').inputValue()).toBe('PARCEL')
  })

  it('filters by error code, and the header opens the failed list', async () => {
    await page.goto(`${h.gateway.url}/`)
    await expect.poll(() => cards().count()).toBeGreaterThan(2)
    await page.fill('input[name=error_code]', 'auth')
    await page.press('input[name=error_code]', 'Enter')
    await expect.poll(shownIds).toEqual([ids.auth])
    expect(new URL(page.url()).searchParams.get('error_code')).toBe('auth')
    await page.click('#filters button[type=reset]')
    await expect.poll(() => cards().count()).toBeGreaterThan(2)
    await expect.poll(() => page.locator('#stat-failed').textContent()).toBe('3')
    await page.click('#stat-failed-link')
    await expect.poll(async () => (await shownIds()).sort()).toEqual([ids.auth, ids.expired, ids.integrity].sort())
    const params = new URL(page.url()).searchParams
    expect(params.get('status')).toBe('failed')
    expect(await page.locator('select[name=status]').inputValue()).toBe('failed')
    // The header counts failures of the last hour, and the list it opens is the same hour's.
    const since = Date.parse(params.get('changed_after') ?? '')
    expect(Math.abs(Date.now() - 3_600_000 - since)).toBeLessThan(60_000)
  })

  it("starts a failed media's detail with what failed and whether retrying helps; the raw JSON behind a toggle", async () => {
    const detail = page.locator('#detail')
    await card(ids.expired).locator('button.title').click()
    await detail.locator('#detail-failure').waitFor()
    expect(await detail.locator('#detail-failure').getAttribute('data-retry')).toBe('no')
    expect(await detail.locator('#detail-failure .code').textContent()).toBe('source_expired')
    expect(await detail.locator('#detail-retry').count()).toBe(0)
    expect(await detail.locator('button.primary').count()).toBe(0)
    await page.click('#detail-close')

    await card(ids.auth).locator('button.title').click()
    const failure = detail.locator('#detail-failure')
    await failure.waitFor()
    const record = (await (await h.api(`/v1/media/${ids.auth}`)).json()) as MediaJson & { failure: { summary: string; fix: string | null } }
    expect(await failure.getAttribute('data-retry')).toBe('after_fix')
    expect(await failure.locator('h3').textContent()).toContain(record.failure.summary)
    expect(await failure.textContent()).toContain(record.failure.fix)
    expect(await detail.locator('#detail-retry').getAttribute('class')).toBe('primary')
    // The summary comes first, the curated fields after it; the JSON only when asked for.
    const order = await detail.locator('#detail-failure, #detail-fields, #detail-raw').evaluateAll((els) => els.map((e) => e.id))
    expect(order).toEqual(['detail-failure', 'detail-fields', 'detail-raw'])
    expect(await detail.locator('#detail-json').isVisible()).toBe(false)
    await page.screenshot({ path: `${ARTIFACTS}/oncall-failed.png` })
    await detail.locator('#detail-raw summary').click()
    expect(await detail.locator('#detail-json').isVisible()).toBe(true)
    expect(JSON.parse((await detail.locator('#detail-json').textContent())!).id).toBe(ids.auth)

    // The token was fixed: the primary button retries, and the media is stored.
    expect(h.emulator.media(authMediaId)).toBeDefined()
    h.emulator.clearFaults()
    await detail.locator('#detail-retry').click()
    await expect.poll(() => detail.locator('dd[data-field="status"]').textContent(), { timeout: 15_000 }).toBe('stored')
    expect(await detail.locator('#detail-failure').count()).toBe(0)
    await page.click('#detail-close')
  })

  it('deletes several picked media after a confirmation that says how many', async () => {
    await page.goto(`${h.gateway.url}/`)
    await expect.poll(() => cards().count()).toBeGreaterThan(4)
    const order = await shownIds()
    const [first, last] = [order.indexOf(ids.bulk2), order.indexOf(ids.bulk1)].sort((a, b) => a - b)
    expect(last! - first!).toBe(1)
    await cards().nth(first!).locator('input.pick').click()
    await cards().nth(last!).locator('input.pick').click({ modifiers: ['Shift'] })
    await expect.poll(() => page.locator('#bulk-count').textContent()).toBe('2 selected')
    await page.click('#bulk-delete')
    await page.locator('#confirm').waitFor({ state: 'visible' })
    expect(await page.locator('#confirm-text').textContent()).toBe('Delete 2 media? This erases their bytes.')
    await page.screenshot({ path: `${ARTIFACTS}/oncall-bulk-confirm.png` })
    await page.click('#confirm-ok')
    await expect.poll(() => page.locator('#bulk-result').textContent()).toContain('Deleted: 2 of 2.')
    await expect.poll(async () => (await shownIds()).filter((id) => id === ids.bulk1 || id === ids.bulk2)).toEqual([])
    expect(await page.locator('#bulk').isVisible()).toBe(false)
    for (const id of [ids.bulk1, ids.bulk2]) {
      const record = (await (await h.api(`/v1/media/${id}`)).json()) as MediaJson
      expect(record.status).toBe('deleted')
    }
    // Tombstones stay out of the default list; "any, deleted too" shows them.
    await page.goto(`${h.gateway.url}/`)
    await expect.poll(() => cards().count()).toBeGreaterThan(2)
    expect((await shownIds()).filter((id) => id === ids.bulk1 || id === ids.bulk2)).toEqual([])
    await page.selectOption('select[name=status]', 'any')
    await expect.poll(async () => (await shownIds()).filter((id) => id === ids.bulk1 || id === ids.bulk2).sort()).toEqual([ids.bulk1, ids.bulk2].sort())
    expect(new URL(page.url()).searchParams.get('status')).toBe('any')
  })

  it('retries all media matching a filter, and does nothing when the count changed before the confirmation', async () => {
    await page.goto(`${h.gateway.url}/?status=failed`)
    await expect.poll(async () => (await shownIds()).sort()).toEqual([ids.expired, ids.integrity].sort())
    await cards().first().locator('input.pick').click()
    await expect.poll(() => page.locator('#bulk-count').textContent()).toBe('1 selected')
    await expect.poll(() => page.locator('#bulk-all').textContent()).toBe('Select all 2 matching this filter')
    await page.click('#bulk-all')
    expect(await page.locator('#bulk-count').textContent()).toBe('All 2 matching this filter')
    expect(await cards().locator('input.pick:checked').count()).toBe(2)

    // Another media fails after the count: the confirmed number no longer holds.
    const late = await whatsapp(null, '15550000000', 'image', {}, { graphErrorCode: 190 })
    expect((await h.settled([late]))[0]!.status).toBe('failed')
    await page.click('#bulk-retry')
    expect(await page.locator('#confirm-text').textContent()).toBe('Retry 2 media? Failed ones are captured again; the others are left as they are.')
    await page.click('#confirm-ok')
    await expect.poll(() => page.locator('#bulk-result').textContent()).toMatch(/^Nothing was done: the number of media matching this filter changed/)
    await expect.poll(() => page.locator('#bulk-count').textContent()).toBe('All 3 matching this filter')
    for (const id of [ids.expired, ids.integrity, late]) expect(((await (await h.api(`/v1/media/${id}`)).json()) as MediaJson).status).toBe('failed')

    await page.click('#bulk-retry')
    expect(await page.locator('#confirm-text').textContent()).toMatch(/^Retry 3 media\?/)
    await page.click('#confirm-ok')
    await expect.poll(() => page.locator('#bulk-result').textContent()).toContain('Queued for another try: 3 of 3.')
    expect(await page.locator('#bulk').isVisible()).toBe(false)
    // Their faults were cleared in the retry test above: captured again, they are stored now.
    const after = await h.settled([ids.expired, ids.integrity])
    expect(after.map((m) => m.status)).toEqual(['stored', 'stored'])
  })

  it("folds the header's figures on a phone-sized screen", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, storageState: await context.storageState() })
    try {
      const p = await phone.newPage()
      await p.goto(h.gateway.url!)
      await p.locator('#stats-toggle').waitFor({ state: 'visible' })
      expect(await p.locator('#stats').isVisible()).toBe(false)
      const folded = (await p.locator('#top').boundingBox())!
      expect(folded.height).toBeLessThan(844 * 0.1)
      await p.screenshot({ path: `${ARTIFACTS}/oncall-phone.png` })
      await p.click('#stats-toggle')
      expect(await p.locator('#stats').isVisible()).toBe(true)
      expect(await p.locator('#stats-toggle').getAttribute('aria-expanded')).toBe('true')
    } finally {
      await phone.close()
    }
  })

  it('raised no script error on the way', () => {
    expect(pageErrors).toEqual([])
  })
})
