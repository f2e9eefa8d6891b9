/**
 * When sandbox mode may start (issue 12, defect 3): `auto` only for a whole gateway on the
 * embedded defaults with nothing of Meta configured; MEDIAGATE_SANDBOX=1 never next to a real
 * token, secret, Graph URL or PostgreSQL/S3; a worker without a token stops at start.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { startSandbox } from '../../src/sandbox/start-sandbox.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-sandbox-config-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const base = () => ({ MEDIAGATE_DATA_DIR: dir })

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ env })
    return []
  } catch (err) {
    return (err as Error).message.split('\n').slice(1).map((line) => line.replace(/^ {2}- /, ''))
  }
}

describe('MEDIAGATE_SANDBOX=auto', () => {
  it('enters sandbox mode on the embedded defaults with nothing of Meta configured', () => {
    expect(loadConfig({ env: base() }).sandbox).toBe(true)
    expect(loadConfig({ env: { ...base(), MEDIAGATE_SANDBOX: 'auto', MEDIAGATE_API_KEY: 'k'.repeat(32) } }).sandbox).toBe(true)
    // The defaults spelled out are still the defaults.
    expect(loadConfig({ env: { ...base(), META_GRAPH_URL: 'https://graph.facebook.com/' } }).sandbox).toBe(true)
  })

  it.each([
    ['a worker', { MEDIAGATE_ROLE: 'worker', WHATSAPP_ACCESS_TOKEN: 'real-token' }],
    ['a worker on PostgreSQL and S3 (the scale-out setup)', { MEDIAGATE_ROLE: 'worker', WHATSAPP_ACCESS_TOKEN: 'real-token', MEDIAGATE_DATABASE_URL: 'postgres://mg:pw@db.internal/mediagate', MEDIAGATE_STORAGE_URL: 's3://media-bucket/mediagate' }],
    ['an access token', { WHATSAPP_ACCESS_TOKEN: 'real-token', MEDIAGATE_API_KEY: 'k'.repeat(32) }],
    ['a Graph URL', { META_GRAPH_URL: 'https://graph.example.com', MEDIAGATE_API_KEY: 'k'.repeat(32) }],
    ['PostgreSQL', { MEDIAGATE_DATABASE_URL: 'postgres://mg:pw@db.internal/mediagate' }],
    ['S3', { MEDIAGATE_STORAGE_URL: 's3://media-bucket/mediagate' }],
    ['another SQLite file', { MEDIAGATE_DATABASE_URL: 'sqlite:/srv/shared/mediagate.db' }],
    ['a tokens file', { MEDIAGATE_CONFIG_FILE: '/etc/mediagate/mediagate.config.json' }],
  ])('stays off with %s', (_what, env) => {
    let sandbox: boolean | undefined
    try {
      sandbox = loadConfig({ env: { ...base(), MEDIAGATE_ROLE: 'all', ...env } }).sandbox
    } catch (err) {
      // Off, so what a real gateway needs is asked for instead.
      expect((err as Error).message).toMatch(/META_APP_SECRET: required outside sandbox mode/)
      sandbox = false
    }
    expect(sandbox).toBe(false)
  })

  it('stays off with ./mediagate.config.json in the working directory', async () => {
    const cwd = process.cwd()
    const here = await mkdtemp(path.join(dir, 'cwd-'))
    await writeFile(path.join(here, 'mediagate.config.json'), JSON.stringify({ whatsapp: { '123': { access_token: 'number-token' } } }))
    process.chdir(here)
    try {
      expect(problems(base())).toEqual([expect.stringMatching(/^META_APP_SECRET: required outside sandbox mode/), expect.stringMatching(/^MEDIAGATE_API_KEY: required/)])
    } finally {
      process.chdir(cwd)
    }
  })

  it('an api process without META_APP_SECRET is told to set it, not put in sandbox mode', () => {
    expect(problems({ ...base(), MEDIAGATE_ROLE: 'api', MEDIAGATE_API_KEY: 'k'.repeat(32) })).toEqual([
      expect.stringMatching(/^META_APP_SECRET: required outside sandbox mode .*sandbox mode starts by itself only for --role all/),
    ])
  })
})

describe('a worker without a token', () => {
  it('stops at start naming what to set, without a secret in the message', () => {
    const found = problems({ ...base(), MEDIAGATE_ROLE: 'worker', MEDIAGATE_DATABASE_URL: 'postgres://mg:hunter2@db.internal/mediagate' })
    expect(found).toEqual([expect.stringMatching(/^WHATSAPP_ACCESS_TOKEN: required by a worker .*mediagate\.config\.json/)])
    expect(found.join('\n')).not.toContain('hunter2')
  })

  it('starts with WHATSAPP_ACCESS_TOKEN, with per-number tokens in the config file, or when it captures no WhatsApp media', async () => {
    const worker = { ...base(), MEDIAGATE_ROLE: 'worker' }
    expect(loadConfig({ env: { ...worker, WHATSAPP_ACCESS_TOKEN: 'real-token' } })).toMatchObject({ sandbox: false, role: 'worker' })
    const file = path.join(dir, 'tokens.json')
    await writeFile(file, JSON.stringify({ whatsapp: { '123': { access_token: 'number-token' } } }))
    expect(loadConfig({ env: { ...worker, MEDIAGATE_CONFIG_FILE: file } }).sandbox).toBe(false)
    expect(loadConfig({ env: { ...worker, MEDIAGATE_POLICY_WHATSAPP: 'proxy' } }).sandbox).toBe(false)
  })

  it('a tokens file without WhatsApp numbers, or a broken one, is reported with the rest', async () => {
    const pagesOnly = path.join(dir, 'pages-only.json')
    await writeFile(pagesOnly, JSON.stringify({ pages: { '9': { access_token: 'page-token-value' } } }))
    const worker = { ...base(), MEDIAGATE_ROLE: 'worker' }
    expect(problems({ ...worker, MEDIAGATE_CONFIG_FILE: pagesOnly })).toEqual([expect.stringMatching(/^WHATSAPP_ACCESS_TOKEN: required by a worker/)])
    const broken = path.join(dir, 'broken.json')
    await writeFile(broken, '{"whatsapp": {"123": {"access_token": "leaky-token-value"')
    const found = problems({ ...worker, MEDIAGATE_CONFIG_FILE: broken })
    expect(found).toEqual([expect.stringContaining('is not valid JSON')])
    expect(found.join('\n')).not.toContain('leaky-token-value')
  })
})

describe('MEDIAGATE_SANDBOX=1', () => {
  it('runs on a local SQLite file and disk directory of your choosing', () => {
    const c = loadConfig({ env: { ...base(), MEDIAGATE_SANDBOX: '1', MEDIAGATE_DATABASE_URL: `sqlite:${path.join(dir, 'elsewhere.db')}` } })
    expect(c.sandbox).toBe(true)
  })

  it('refuses at start, in one line naming each, next to a real token, secret, Graph URL, PostgreSQL, S3 or another role', () => {
    const found = problems({
      ...base(),
      MEDIAGATE_SANDBOX: '1',
      META_APP_SECRET: 'real-app-secret-value',
      WHATSAPP_ACCESS_TOKEN: 'real-token-value',
      META_GRAPH_URL: 'https://graph.example.com',
      MEDIAGATE_DATABASE_URL: 'postgres://mg:hunter2@db.internal/mediagate',
      MEDIAGATE_STORAGE_URL: 's3://media-bucket/mediagate',
      MEDIAGATE_ROLE: 'worker',
    })
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(/^MEDIAGATE_SANDBOX: /)
    for (const name of ['META_APP_SECRET', 'WHATSAPP_ACCESS_TOKEN', 'META_GRAPH_URL', 'MEDIAGATE_DATABASE_URL (PostgreSQL)', 'MEDIAGATE_STORAGE_URL (S3)', 'MEDIAGATE_ROLE=worker', 'MEDIAGATE_SANDBOX=0']) {
      expect(found[0]).toContain(name)
    }
    for (const secret of ['real-app-secret-value', 'real-token-value', 'hunter2']) expect(found[0]).not.toContain(secret)
  })

  it('startSandbox refuses such a Config from a library caller too, before starting anything', async () => {
    const real = loadConfig({ env: { ...base(), MEDIAGATE_SANDBOX: '0', META_APP_SECRET: 's', MEDIAGATE_API_KEY: 'k'.repeat(32), WHATSAPP_ACCESS_TOKEN: 'real-token-value' } })
    await expect(startSandbox({ ...real, sandbox: true })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringContaining('WHATSAPP_ACCESS_TOKEN') })
  })
})
