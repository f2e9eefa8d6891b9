/**
 * The package as users get it: `npm pack`, the tarball installed into an empty directory with
 * production dependencies only (from npm's cache, else the registry), and then the installed
 * copy alone — its bin, its sandbox gateway capturing a sample end to end (migrations, the
 * SQLite and durable-write worker threads), its dashboard assets, and its type declarations
 * checked from a TypeScript file that imports `mediagate` and `mediagate/emulator`.
 *
 * better-sqlite3 is native. Where its prebuilt binary cannot be downloaded (this machine reaches
 * only the npm registry), the install would compile it for minutes; the binary this checkout
 * already built from the same version is offered as the local prebuild that prebuild-install
 * would otherwise download. A different version resolved from the registry still compiles.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt } from '../helpers/child-gateway.js'
import { until } from '../helpers/until.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
/**
 * Packages whose `engines` refuse the running Node although they work on it, as docs/operations.md's
 * "Node versions" section explains: light-my-request's cookie@2 (fastify's inject, never used at
 * run time) on Node 20. Anything else is a surprise for users and fails the test.
 */
const EXPECTED_EBADENGINE = Number(process.versions.node.split('.')[0]) < 22 ? ['cookie'] : []

let dir: string
let app: string
let installLog = ''

function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra }
}

/** A local prebuild of the better-sqlite3 this checkout built, named as prebuild-install looks for it. */
async function localPrebuilds(): Promise<Record<string, string>> {
  const pkg = path.join(ROOT, 'node_modules/better-sqlite3')
  if (!existsSync(path.join(pkg, 'build/Release/better_sqlite3.node'))) return {}
  const version = (JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { version: string }).version
  const prebuilds = path.join(dir, 'prebuilds')
  await mkdir(prebuilds)
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
  await run('tar', ['-czf', path.join(prebuilds, name), '-C', pkg, 'build/Release/better_sqlite3.node'])
  return { npm_config_better_sqlite3_local_prebuilds: prebuilds }
}

beforeAll(async () => {
  assertBuilt()
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-package-'))
  app = path.join(dir, 'app')
  await mkdir(app)
  // `npm test` has just built dist/; packing must not build again (prepare) while the suite runs.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 })
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }]
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  const installed = await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, filename)], {
    cwd: app,
    env: npmEnv(await localPrebuilds()),
    maxBuffer: 64 * 1024 * 1024,
  })
  installLog = `${installed.stdout}\n${installed.stderr}`
}, 600_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('the installed package', () => {
  it('is installed with production dependencies only, and no engine warning the docs do not explain', async () => {
    const modules = await readdir(path.join(app, 'node_modules'))
    for (const dev of ['vitest', 'typescript', 'fast-check', 'playwright-core', 'autocannon']) expect(modules).not.toContain(dev)
    const refused = [...installLog.matchAll(/EBADENGINE\s+package: '(@?[^@']+)@/g)].map((m) => m[1])
    expect([...new Set(refused)]).toEqual(EXPECTED_EBADENGINE)
  })

  it('ships what it needs at run time: dashboard assets, migrations, worker-thread scripts, declarations', () => {
    const dist = path.join(app, 'node_modules/mediagate/dist')
    for (const file of [
      'cli/main.js',
      'index.d.ts',
      'emulator/index.d.ts',
      'dashboard/web/index.html',
      'dashboard/web/style.css',
      'dashboard/web/app.js',
      'catalog/migrations/0001_initial.js',
      'catalog/migrations/0010_trace_parent.js',
      'catalog/sqlite-thread.js',
      'catalog/sqlite-checkpointer.js',
      'blobs/durable-write-thread.js',
      'tracing/start-tracing.js',
    ]) {
      expect(existsSync(path.join(dist, file)), file).toBe(true)
    }
    // Tests, sources and benchmarks stay out of the tarball.
    expect(existsSync(path.join(app, 'node_modules/mediagate/test'))).toBe(false)
    expect(existsSync(path.join(app, 'node_modules/mediagate/src'))).toBe(false)
  })

  // Two npx runs that resolve the installed bin: bounded, slow only on a loaded machine.
  it('answers `npx mediagate --version` and `--help`', { timeout: 120_000 }, async () => {
    const version = await run('npx', ['--no-install', 'mediagate', '--version'], { cwd: app, env: npmEnv() })
    expect(version.stdout.trim()).toBe(VERSION)
    const help = await run('npx', ['--no-install', 'mediagate', '--help'], { cwd: app, env: npmEnv() })
    expect(help.stdout).toContain('Usage: mediagate')
    for (const command of ['serve', 'emulator', 'migrate', 'verify']) expect(help.stdout).toContain(command)
  })

  it('serves in sandbox mode: /healthz, /readyz, the dashboard, and a sample captured end to end', async () => {
    const serve = await startSandbox(app)
    try {
      expect((await fetch(`${serve.gateway}/healthz`)).status).toBe(200)
      expect((await fetch(`${serve.gateway}/readyz`)).status).toBe(200)
      const page = await fetch(`${serve.gateway}/`)
      expect(page.status).toBe(200)
      const html = await page.text()
      for (const asset of ['app.js', 'style.css']) {
        expect(html).toContain(asset)
        const res = await fetch(`${serve.gateway}/dashboard/assets/${asset}`)
        expect(res.status, asset).toBe(200)
        expect((await res.text()).length).toBeGreaterThan(100)
      }
      const sent = await fetch(`${serve.emulator}/_emulator/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ platform: 'whatsapp', kind: 'image', target: `${serve.gateway}/webhooks/meta` }),
      })
      expect(sent.status).toBe(200)
      const stored = await until('the sample stored', async () => {
        const res = await fetch(`${serve.gateway}/v1/media`, { headers: { authorization: `Bearer ${serve.apiKey}` } })
        const page = (await res.json()) as { data: { id: string; status: string; size: number }[] }
        return page.data.find((m) => m.status === 'stored')
      })
      const content = await fetch(`${serve.gateway}/v1/media/${stored.id}/content`, { headers: { authorization: `Bearer ${serve.apiKey}` } })
      expect(content.status).toBe(200)
      expect((await content.arrayBuffer()).byteLength).toBe(stored.size)
    } finally {
      await serve.stop()
    }
  }, 60_000)

  it('type-checks a TypeScript file importing `mediagate` and `mediagate/emulator` against the installed declarations', async () => {
    await writeFile(
      path.join(app, 'consumer.ts'),
      [
        "import { createGateway, type Gateway, loadConfig, type MediaRecord, MediagateError, parseWebhook, startTracing, verifySignature } from 'mediagate'",
        "import { type Emulator, startEmulator, whatsappMessage } from 'mediagate/emulator'",
        'export async function main(): Promise<string> {',
        "  const emulator: Emulator = await startEmulator({ accessToken: 'token', appSecret: 'secret' })",
        "  const gateway: Gateway = await createGateway(loadConfig({ env: { MEDIAGATE_PORT: '0', META_GRAPH_URL: emulator.url } }))",
        "  const signed: boolean = verifySignature(Buffer.from('{}'), undefined, ['secret'])",
        '  const parsed = parseWebhook(whatsappMessage({}), { receivedAt: new Date() })',
        '  const first: MediaRecord | undefined = undefined',
        '  const tracing = await startTracing()',
        '  await gateway.close()',
        '  await emulator.close()',
        "  return [signed, parsed.media.length, first, tracing.enabled, new MediagateError('internal', 'x').code].join()",
        '}',
        '',
      ].join('\n'),
    )
    // A bad use must fail, so a pass means the declarations were really read.
    await writeFile(path.join(app, 'misuse.ts'), "import { createGateway } from 'mediagate'\nexport const wrong: number = createGateway\n")
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
    const options = ['--noEmit', '--strict', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules/@types')]
    // skipLibCheck off: the installed .d.ts files themselves are checked, against production
    // dependencies only. One run for both files: the only error must be the deliberate one.
    const out = await run(process.execPath, [tsc, ...options, 'consumer.ts', 'misuse.ts'], { cwd: app }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    )
    const errors = out.split('\n').filter((line) => /error TS\d+/.test(line))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^misuse\.ts\(2,14\): error TS2322: .*is not assignable to type 'number'/)
  }, 120_000)
})

interface Sandbox {
  gateway: string
  emulator: string
  apiKey: string
  stop(): Promise<void>
}

/** `npx mediagate serve` with nothing configured: sandbox mode, its banner on stderr. */
async function startSandbox(cwd: string): Promise<Sandbox> {
  const child: ChildProcess = spawn('npx', ['--no-install', 'mediagate', 'serve'], {
    cwd,
    env: npmEnv({ MEDIAGATE_PORT: '0', MEDIAGATE_LOG_FORMAT: 'json' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let err = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const banner = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox did not start within 30 s:\n${err}`)), 30_000)
    child.stdout!.resume()
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString()
      const match = /gateway:\s+(http:\/\/\S+)[\s\S]*emulator:\s+(http:\/\/\S+)[\s\S]*API key:\s+(\S+)/.exec(err)
      if (match) {
        clearTimeout(timer)
        resolve(match)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`mediagate serve exited with ${code}:\n${err}`))
    })
  })
  return {
    gateway: banner[1]!,
    emulator: banner[2]!,
    apiKey: banner[3]!,
    async stop() {
      // npx runs mediagate as its child: signal the whole group.
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM')
      await exited
    },
  }
}

