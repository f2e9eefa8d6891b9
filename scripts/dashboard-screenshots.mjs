// The pictures in docs/dashboard.md: starts the emulator and a gateway on loopback (from dist/,
// so run `npm run build` first; `npm run screenshots` does), sends a dozen media through it (a
// few made to fail the ways they fail in production), drives the dashboard in Chromium and saves
// PNGs of its main views into docs/images/, reduced to a small palette to keep the repo light.
//
//   npm run screenshots               # all of them
//   CHROMIUM=/path/to/chrome npm run screenshots
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import sharp from 'sharp'
import { loadConfig } from '../dist/config/load-config.js'
import { messengerMessage, instagramMessage, sampleMp4, sampleOgg, samplePdf, startEmulator, whatsappMessage } from '../dist/emulator/index.js'
import { createGateway } from '../dist/gateway.js'
import { createLogger } from '../dist/logging/logger.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(root, 'docs/images')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const API_KEY = 'screenshots-api-key-0123456789'

/** A picture worth a thumbnail: a gradient, a few shapes and a label, as a JPEG. */
async function picture(label, [from, to], shapes) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="960" height="720">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient></defs>
    <rect width="960" height="720" fill="url(#g)"/>${shapes}
    <text x="40" y="680" font-family="sans-serif" font-size="44" fill="#fff" opacity=".85">${label}</text></svg>`
  return sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer()
}

const PICTURES = {
  parcel: () => picture('box 3 of 4', ['#b5835a', '#6b4a2f'], '<rect x="260" y="160" width="440" height="340" rx="12" fill="#d9a86c" stroke="#5a3d22" stroke-width="8"/><path d="M260 260 L700 260" stroke="#5a3d22" stroke-width="8"/><path d="M420 160 L380 300 L470 330 L430 500" stroke="#3b2714" stroke-width="6" fill="none"/>'),
  sunset: () => picture('', ['#ff9a5a', '#5b2a86'], '<circle cx="480" cy="430" r="140" fill="#ffd36e"/><rect y="470" width="960" height="250" fill="#2b1745"/>'),
  meter: () => picture('meter 0042-118', ['#d7dde4', '#8a96a3'], '<rect x="300" y="180" width="360" height="300" rx="30" fill="#263238"/><rect x="350" y="250" width="260" height="80" rx="6" fill="#c5e1a5"/><text x="370" y="308" font-family="monospace" font-size="54" fill="#263238">04217</text>'),
  receipt: () => picture('', ['#f5f5f0', '#dcdcd2'], '<rect x="330" y="80" width="300" height="560" fill="#fff" stroke="#bbb"/>' + Array.from({ length: 12 }, (_, i) => `<rect x="360" y="${120 + i * 38}" width="${120 + ((i * 53) % 110)}" height="12" fill="#999"/>`).join('')),
  plant: () => picture('', ['#cfe8c4', '#5f8f55'], '<rect x="400" y="450" width="160" height="170" fill="#b5562f"/><ellipse cx="480" cy="340" rx="70" ry="150" fill="#2e7d32"/><ellipse cx="400" cy="380" rx="50" ry="110" fill="#388e3c" transform="rotate(-30 400 380)"/><ellipse cx="560" cy="380" rx="50" ry="110" fill="#43a047" transform="rotate(30 560 380)"/>'),
  bike: () => picture('', ['#9ad0ec', '#e8f4fa'], '<circle cx="330" cy="470" r="110" fill="none" stroke="#222" stroke-width="14"/><circle cx="640" cy="470" r="110" fill="none" stroke="#222" stroke-width="14"/><path d="M330 470 L450 300 L600 300 L640 470 M450 300 L500 470 L600 300" stroke="#c62828" stroke-width="14" fill="none"/>'),
}

async function main() {
  mkdirSync(OUT, { recursive: true })
  const emulator = await startEmulator({ accessToken: 'screenshots-access-token', appSecret: 'screenshots-app-secret' })
  const dataDir = mkdtempSync(join(tmpdir(), 'mediagate-screens-'))
  const config = loadConfig({
    env: {
      MEDIAGATE_PORT: '0',
      MEDIAGATE_DATA_DIR: dataDir,
      META_APP_SECRET: emulator.appSecret,
      META_VERIFY_TOKEN: 'screenshots-verify',
      WHATSAPP_ACCESS_TOKEN: emulator.accessToken,
      META_GRAPH_URL: emulator.url,
      MEDIAGATE_API_KEY: API_KEY,
      MEDIAGATE_ALLOWED_HOSTS: new URL(emulator.url).hostname,
      MEDIAGATE_LOG_LEVEL: 'silent',
    },
  })
  const gateway = await createGateway(config, { retry: { baseDelayMs: 10, maxDelayMs: 100 }, pollMs: 50, logger: createLogger('silent') })
  await gateway.start()
  const base = gateway.url
  const target = `${base}/webhooks/meta`
  const api = async (path, init = {}) => {
    const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...init.headers } })
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`)
    return res.json()
  }
  const sent = []
  const whatsapp = async (from, profileName, type, bytes, mimeType, extra = {}, faults) => {
    const media = emulator.addWhatsAppMedia({ bytes, mimeType })
    if (faults) emulator.setFaults(media.id, faults)
    const payload = whatsappMessage({ from, profileName, media: { type, id: media.id, mime_type: mimeType, sha256: media.sha256, ...extra } })
    await emulator.sendWebhook(payload, { target })
    sent.push(payload.entry[0].changes[0].value.messages[0].id)
  }
  const messaging = async (platform, user, type, bytes, mimeType, text, faults) => {
    const media = emulator.addCdnMedia({ platform, bytes, mimeType })
    if (faults) emulator.setFaults(media.id, faults)
    const input = { attachments: [{ type, url: media.url }], ...(text ? { text } : {}) }
    const payload = platform === 'messenger' ? messengerMessage({ psid: user, ...input }) : instagramMessage({ igsid: user, ...input })
    await emulator.sendWebhook(payload, { target })
    sent.push(payload.entry[0].messaging[0].message.mid)
  }

  // Oldest first: the gallery shows the newest first.
  await whatsapp('447700900123', 'Alice Martin', 'image', await PICTURES.parcel(), 'image/jpeg', { caption: 'Damaged parcel, box 3 of 4' })
  await whatsapp('447700900123', 'Alice Martin', 'audio', sampleOgg(1), 'audio/ogg; codecs=opus', { voice: true })
  await messaging('messenger', '6123456789012345', 'image', await PICTURES.bike(), 'image/jpeg', 'Is this model still available?')
  await whatsapp('15551234567', 'Bob', 'document', samplePdf(2), 'application/pdf', { filename: 'invoice-2291.pdf', caption: 'Invoice for March' })
  await whatsapp('4915112345678', 'Jana', 'image', await PICTURES.meter(), 'image/jpeg', { caption: 'Meter reading for April' })
  await messaging('messenger', '6198765432109876', 'image', await PICTURES.sunset(), 'image/jpeg', undefined, { expired: true })
  await whatsapp('33612345678', 'Claire', 'image', await PICTURES.receipt(), 'image/jpeg', { caption: 'Receipt, table 12' }, { graphErrorCode: 190 })
  await messaging('instagram', '7345678901234567', 'image', await PICTURES.plant(), 'image/jpeg', 'Story mention')
  await whatsapp('5511987654321', 'Rafael', 'video', sampleMp4(3), 'video/mp4', { caption: 'The noise it makes' })
  await whatsapp('15551234567', 'Bob', 'image', await PICTURES.sunset(), 'image/jpeg', { caption: 'Delivery photo' }, { wrongHash: true })
  await whatsapp('4915112345678', 'Jana', 'audio', sampleOgg(4), 'audio/ogg; codecs=opus', { voice: true })

  // Wait until every media left `pending` and its thumbnail, preview and waveform are made (bounded).
  const settled = (m) => m.status !== 'pending' && (m.status !== 'stored' || !m.derivatives || ['done', 'skipped', 'failed'].includes(m.derivatives.status))
  for (let i = 0; i < 300; i++) {
    const { data } = await api('/v1/media?limit=100')
    if (data.length >= sent.length && data.every(settled)) break
    await new Promise((r) => setTimeout(r, 100))
  }

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  const shots = []
  const save = async (page, name, options = {}) => {
    const png = await page.screenshot(options)
    const small = await sharp(png).png({ palette: true, colours: 96, compressionLevel: 9, effort: 10 }).toBuffer()
    writeFileSync(join(OUT, name), small)
    shots.push(`${name} ${Math.round(small.length / 1024)} KB`)
  }
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/London' })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    await page.goto(base)
    await page.fill('#api-key', API_KEY)
    await page.click('#signin-form button[type=submit]')
    await page.locator('#gallery li.card').nth(sent.length - 1).waitFor()
    await page.waitForFunction(() => [...document.querySelectorAll('#gallery img')].filter((img) => img.getBoundingClientRect().top < innerHeight).every((img) => img.complete && img.naturalWidth > 0))

    // A media arrives while the operator looks: the bar offers it without moving the list.
    await whatsapp('447700900123', 'Alice Martin', 'image', await PICTURES.plant(), 'image/jpeg', { caption: 'And the fourth box' })
    await page.locator('#new-bar').waitFor({ state: 'visible' })
    await save(page, 'dashboard-gallery.png')

    await page.fill('input[name=q]', '447700900123')
    await page.press('input[name=q]', 'Enter')
    await page.waitForFunction(() => document.querySelectorAll('#gallery li.card').length === 3)
    await page.waitForFunction(() => [...document.querySelectorAll('#gallery img')].filter((img) => img.getBoundingClientRect().top < innerHeight).every((img) => img.complete && img.naturalWidth > 0))
    await save(page, 'dashboard-search.png')

    await page.goto(`${base}/?status=failed&error_code=auth`)
    await page.locator('#gallery li.card button.title').first().click()
    await page.locator('#detail-failure').waitFor()
    await save(page, 'dashboard-failed-detail.png')
    await page.click('#detail-close')

    await page.goto(`${base}/?status=failed`)
    await page.waitForFunction(() => document.querySelectorAll('#gallery li.card').length >= 3)
    const boxes = page.locator('#gallery li.card input.pick')
    await boxes.nth(0).click()
    await boxes.nth(2).click({ modifiers: ['Shift'] })
    await page.locator('#bulk').waitFor({ state: 'visible' })
    await page.click('#bulk-delete')
    await page.locator('#confirm').waitFor({ state: 'visible' })
    await save(page, 'dashboard-bulk-confirm.png')
    await page.click('#confirm-cancel')

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: 'en-GB', timezoneId: 'Europe/London' })
    const phonePage = await phone.newPage()
    await phonePage.goto(base)
    await phonePage.fill('#api-key', API_KEY)
    await phonePage.click('#signin-form button[type=submit]')
    await phonePage.locator('#stats-toggle').waitFor({ state: 'visible' })
    // Lazy pictures below the fold never load: only those in view are waited for.
    await phonePage.waitForFunction(() => [...document.querySelectorAll('#gallery img')].filter((img) => img.getBoundingClientRect().top < innerHeight).every((img) => img.complete && img.naturalWidth > 0))
    await save(phonePage, 'dashboard-phone.png')
  } finally {
    await browser.close()
    await gateway.close()
    await emulator.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  console.log(`saved into docs/images/:\n  ${shots.join('\n  ')}`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
