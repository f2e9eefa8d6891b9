/**
 * The README's "Try failures" commands, run as written (real curl, through sh) against a gateway
 * and its emulator, each ending as its comment says; and the emulator's send endpoint with your
 * own file instead of the sample (issue 16).
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.js'

const run = promisify(execFile)
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

interface Scenario {
  title: string
  commands: string
  expect: { status: 'failed'; code: string } | { status: 'stored' }
}

/** The sh blocks after the try-failures marker, up to the next heading. */
function scenarios(): Scenario[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('<!-- try-failures')
  const section = readme.slice(start, readme.indexOf('\n### ', start))
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => {
    const commands = m[1]!
    const title = commands.split('\n')[0]!.replace(/^# /, '')
    const failed = /failed, (\w+)/.exec(title)
    return { title, commands, expect: failed ? { status: 'failed', code: failed[1]! } : { status: 'stored' } }
  })
}

let h: Harness
let dir: string
beforeAll(async () => {
  h = await startHarness()
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-try-'))
})
afterAll(async () => {
  await h?.close()
  await rm(dir, { recursive: true, force: true })
})
beforeEach(() => h.emulator.clearFaults())

const gatewayUrl = () => h.gateway.url!

describe("the README's Try failures", () => {
  const found = scenarios()

  it('has the five scenarios the README promises', () => {
    expect(found.map((s) => s.expect)).toEqual([
      { status: 'failed', code: 'source_expired' },
      { status: 'failed', code: 'integrity' },
      { status: 'failed', code: 'auth' },
      { status: 'stored' },
      { status: 'stored' },
    ])
  })

  for (const scenario of found) {
    it(`${scenario.title}`, { timeout: 60_000 }, async () => {
      const { stdout } = await run('sh', ['-c', scenario.commands], { env: { PATH: process.env.PATH ?? '', EMU: h.emulator.url, GW: gatewayUrl() } })
      // curl -s prints each answer without a newline: the send's answer is the last object.
      const sent = JSON.parse(stdout.slice(stdout.lastIndexOf('{"platform"'))) as { message_id: string; status: number }
      expect(sent.status).toBe(200)
      const [record] = await h.mediaOf(sent.message_id)
      const [settled] = await h.settled([record!.id], 30_000)
      if (scenario.expect.status === 'failed') expect(settled).toMatchObject({ status: 'failed', error: { code: scenario.expect.code } })
      else expect(settled!.status).toBe('stored')
    })
  }

  it('`DELETE /_emulator/faults` puts the emulator back to normal', async () => {
    const env = { PATH: process.env.PATH ?? '', EMU: h.emulator.url }
    await run('sh', ['-c', `curl -s -X POST $EMU/_emulator/faults -d '{"media":"*","faults":{"expired":true}}'`], { env })
    const set = (await (await fetch(`${h.emulator.url}/_emulator/faults`)).json()) as Record<string, unknown>
    expect(Object.keys(set)).not.toHaveLength(0)
    await run('sh', ['-c', 'curl -s -X DELETE $EMU/_emulator/faults'], { env })
    const cleared = (await (await fetch(`${h.emulator.url}/_emulator/faults`)).json()) as unknown
    expect(cleared).toEqual(Array.isArray(cleared) ? [] : {})
  })
})

describe('sending your own file through the emulator', () => {
  async function send(body: object): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${h.emulator.url}/_emulator/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: `${gatewayUrl()}/webhooks/meta`, ...body }) })
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  }

  it('stores exactly your bytes, from a path or from base64, with the type and name you gave', async () => {
    const bytes = randomBytes(30_000)
    const file = path.join(dir, 'contract.pdf')
    await writeFile(file, bytes)
    for (const [how, extra] of [
      ['file', { file }],
      ['base64', { bytes_base64: bytes.toString('base64'), filename: 'contract.pdf' }],
    ] as const) {
      const sent = await send({ platform: 'whatsapp', kind: 'document', mime_type: 'application/pdf', ...extra })
      expect(sent.status, how).toBe(200)
      // As WhatsApp declares it: base64.
      expect(sent.json.sha256).toBe(createHash('sha256').update(bytes).digest('base64'))
      const [record] = await h.mediaOf(String(sent.json.message_id))
      const [stored] = await h.settled([record!.id])
      expect(stored).toMatchObject({ status: 'stored', sha256: sha(bytes), size: bytes.length, filename: 'contract.pdf', mime_type: 'application/pdf' })
      const content = Buffer.from(await (await h.api(`/v1/media/${record!.id}/content`)).arrayBuffer())
      expect(content.equals(bytes)).toBe(true)
    }
  })

  it('refuses a missing file, both sources at once, and an empty file, saying why', async () => {
    const missing = await send({ platform: 'messenger', kind: 'image', file: path.join(dir, 'nope.jpg') })
    expect(missing.status).toBe(400)
    expect(JSON.stringify(missing.json)).toContain('cannot read file')
    const both = await send({ platform: 'messenger', kind: 'image', file: path.join(dir, 'x'), bytes_base64: 'AAAA' })
    expect(both.status).toBe(400)
    const empty = await send({ platform: 'messenger', kind: 'image', bytes_base64: '' })
    expect(empty.status).toBe(400)
    expect(JSON.stringify(empty.json)).toContain('empty')
  })
})
