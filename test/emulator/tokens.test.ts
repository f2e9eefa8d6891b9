/** The emulator accepts extra access tokens by label and tells which one each request carried. */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../../src/emulator/index.js'

let emu: Emulator
beforeAll(async () => {
  emu = await startEmulator({ accessToken: 'main-token-value', appSecret: 'secret', extraAccessTokens: { business2: 'second-token-value' } })
})
afterAll(async () => emu?.close())

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

it('accepts each token for lookups and downloads and counts requests by its label, never by the token', async () => {
  const bytes = randomBytes(300)
  const media = emu.addWhatsAppMedia({ bytes, mimeType: 'image/jpeg' })
  const info = (await (await fetch(`${emu.url}/v26.0/${media.id}`, { headers: bearer('second-token-value') })).json()) as { url: string }
  const download = await fetch(info.url, { headers: bearer('second-token-value') })
  expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true)
  expect((await fetch(`${emu.url}/v26.0/${media.id}`, { headers: bearer('main-token-value') })).status).toBe(200)
  const counted = emu.stats().byMedia[media.id]!.tokens
  expect(counted).toEqual({ business2: 2, default: 1 })
  expect(JSON.stringify(emu.stats())).not.toContain('token-value')
})

it('refuses a token it does not know, on Graph and on the download URL', async () => {
  const media = emu.addWhatsAppMedia({ bytes: randomBytes(10), mimeType: 'image/jpeg' })
  expect((await fetch(`${emu.url}/v26.0/${media.id}`, { headers: bearer('nobody-token') })).status).toBe(401)
  const info = (await (await fetch(`${emu.url}/v26.0/${media.id}`, { headers: bearer('main-token-value') })).json()) as { url: string }
  expect((await fetch(info.url, { headers: bearer('nobody-token') })).status).toBe(401)
})

it('refuses an extra token under the label `default` or an empty one', async () => {
  await expect(startEmulator({ accessToken: 'a', appSecret: 's', extraAccessTokens: { default: 'b' } })).rejects.toThrow(/extraAccessTokens\.default/)
  await expect(startEmulator({ accessToken: 'a', appSecret: 's', extraAccessTokens: { x: '' } })).rejects.toThrow(/extraAccessTokens\.x/)
})
