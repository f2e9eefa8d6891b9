/**
 * The commands the README and docs/ show, run or checked against the real binary (dist/): the
 * README's CLI list is the binary's, the install section's `mediagate --help` and `mediagate
 * doctor` work offline from a fresh directory, docs/cli.md's table names the flags each command
 * really takes, bench/README.md names the scenarios bench/run.ts knows, and docs/emulator.md's
 * "emulator, then serve against it" works as shown, across an emulator restart on its state
 * directory. (The README's Try failures run in test/e2e/try-failures.test.ts; the Library
 * examples in test/library/examples.test.ts; the install itself in test/package/package.test.ts.)
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { get } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { afterAll, describe, expect, it } from 'vitest'
import type { MediaJson } from '../../src/serve/present-media.js'
import { assertBuilt, CLI, type ChildGateway, startChildGateway } from '../helpers/child-gateway.js'
import { runCli } from '../helpers/run-cli.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8')

/** The fenced blocks of a Markdown text whose info string is `lang` (or any, for ''). */
function blocks(text: string, lang: string): string[] {
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].filter((m) => lang === '' || m[1] === lang).map((m) => m[2]!)
}

/** The fenced block of a section (`## title` up to the next `## `). */
function sectionOf(text: string, title: string): string {
  const start = text.indexOf(`\n## ${title}\n`)
  expect(start, `a "## ${title}" section`).toBeGreaterThan(0)
  const end = text.indexOf('\n## ', start + 1)
  return text.slice(start, end === -1 ? undefined : end)
}

const cleanups: (() => Promise<void>)[] = []
// Children first (the list is reversed), then their directories; a loaded machine may take a while.
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
}, 60_000)
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-docs-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

describe('the README', () => {
  it("lists exactly the commands `mediagate --help` knows, in its CLI section", async () => {
    const help = await runCli(['--help'], {})
    expect(help.code).toBe(0)
    const known = [...help.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help')
    const [block] = blocks(sectionOf(read('README.md'), 'CLI'), '')
    const listed = [...new Set([...block!.matchAll(/^mediagate ([a-z-]+)/gm)].map((m) => m[1]!))]
    expect(listed.sort()).toEqual(known.sort())
  })

  it('shows install steps whose last commands, `mediagate --help` and `mediagate doctor`, work offline in a fresh directory', { timeout: 60_000 }, async () => {
    const [block] = blocks(sectionOf(read('README.md'), 'Install the CLI outside the clone'), 'sh')
    const commands = block!.split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean)
    expect(commands).toEqual(['npm pack', 'npm install -g ./mediagate-0.1.0.tgz', 'mediagate --help', 'mediagate doctor'])
    // The tarball's name is the package's name and version.
    const pkg = JSON.parse(read('package.json')) as { name: string; version: string }
    expect(`${pkg.name}-${pkg.version}.tgz`).toBe('mediagate-0.1.0.tgz')
    const cwd = await tempDir()
    const doctor = await runCli(['doctor'], {}, 30_000, cwd)
    expect(doctor.code, doctor.stderr).toBe(0)
    expect(doctor.stdout).toMatch(/\[ ok \] configuration/)
    expect(doctor.stdout).toContain('sandbox mode')
  })
})

/** The long flags a command declares, read from its commander definition (what its --help prints). */
const flagCache = new Map<string, string[]>()
async function flagsOf(command: string): Promise<string[]> {
  const cached = flagCache.get(command)
  if (cached) return cached
  const mod = (await import(/* @vite-ignore */ new URL(`../../src/cli/commands/${command}.ts`, import.meta.url).href)) as Record<string, unknown>
  const factory = Object.values(mod).find((v): v is () => Command => typeof v === 'function' && v.name.endsWith('Command'))
  expect(factory, `src/cli/commands/${command}.ts exports its command`).toBeDefined()
  const flags = factory!().options.map((o) => o.long ?? '')
  flagCache.set(command, flags)
  return flags
}

describe("the README's CLI list", () => {
  it('shows only flags each command really takes', { timeout: 120_000 }, async () => {
    const [block] = blocks(sectionOf(read('README.md'), 'CLI'), '')
    let checked = 0
    for (const line of block!.split('\n')) {
      const command = /^mediagate ([a-z-]+)/.exec(line)?.[1]
      if (!command) continue
      // The usage part only: what follows two or more spaces is the description.
      const usage = line.split(/\s{3,}/)[0]!
      const flags = await flagsOf(command)
      for (const flag of usage.match(/--[a-z][a-z-]*/g) ?? []) {
        expect(flags, `mediagate ${command} ${flag}`).toContain(flag)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(20)
  })
})

describe('docs/cli.md', () => {
  it('names, for each command, the flags that command really takes (and, after "but", does not)', { timeout: 120_000 }, async () => {
    const rows = sectionOf(read('docs/cli.md'), 'Which options each command reads')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
    expect(rows.length).toBeGreaterThan(8)
    const flagsIn = (cell: string) => [...cell.matchAll(/`(--[a-z-]+)`/g)].map((m) => m[1]!)
    for (const row of rows) {
      const [commandsCell, optionsCell] = row.split(' | ') as [string, string]
      const [taken, excluded] = optionsCell.includes(' but ') ? optionsCell.split(' but ') as [string, string] : [optionsCell, '']
      for (const command of [...commandsCell.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!)) {
        const flags = await flagsOf(command)
        for (const flag of flagsIn(taken)) expect(flags, `${command} takes ${flag}`).toContain(flag)
        for (const flag of flagsIn(excluded)) expect(flags, `${command} does not take ${flag}`).not.toContain(flag)
      }
    }
  })
})

describe('bench/README.md', () => {
  it('names every scenario bench/run.ts knows, and no other', () => {
    const known = readdirSync(path.join(ROOT, 'bench/scenarios'))
      .map((f) => /^ {2}name: '([a-z0-9-]+)'/m.exec(read(`bench/scenarios/${f}`))?.[1])
      .filter((n): n is string => n !== undefined)
    const table = sectionOf(read('bench/README.md'), 'The scenarios')
    const rows = [...table.matchAll(/^\| ([a-z0-9-]+) \| /gm)].map((m) => m[1]!)
    const inTable = [...new Set(rows.filter((r) => r !== 'scenario'))]
    expect(inTable.sort()).toEqual([...known].sort())
    const only = /--only intake,serving\s+# some scenarios: ([a-z0-9, -]+)/.exec(read('bench/README.md'))?.[1]
    expect(only?.split(',').map((s) => s.trim()).sort()).toEqual([...known].sort())
  })
})

/** `mediagate emulator` as a child; resolves once it printed its URL and generated secrets. */
async function startEmulatorCli(args: string[]): Promise<{ child: ChildProcess; out: string }> {
  assertBuilt()
  const child = spawn(process.execPath, [CLI, 'emulator', ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator did not start:\n${out}`)), 20_000)
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString()
      if (out.includes('send a signed webhook')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}:\n${out}`)))
  })
  return { child, out }
}

describe('docs/emulator.md', () => {
  it('runs the emulator on its own and a gateway against it, as shown; its state directory outlives a restart', { timeout: 180_000 }, async () => {
    const doc = read('docs/emulator.md')
    const [example] = blocks(doc, 'sh')
    expect(example).toContain('mediagate emulator --port 8090')
    // The variables the example sets are the ones the emulator's banner tells you to set.
    const exampleVars = [...example!.matchAll(/\b([A-Z_]+)=/g)].map((m) => m[1]!).sort()
    expect(exampleVars).toEqual(['MEDIAGATE_ALLOWED_HOSTS', 'MEDIAGATE_API_KEY', 'META_APP_SECRET', 'META_GRAPH_URL', 'WHATSAPP_ACCESS_TOKEN'])

    const stateDir = path.join(await tempDir(), 'emulator')
    let emu = await startEmulatorCli(['--port', '0', '--state-dir', stateDir])
    const url = /Meta emulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(emu.out)![1]!
    const env = Object.fromEntries([...emu.out.matchAll(/\b(META_GRAPH_URL|MEDIAGATE_ALLOWED_HOSTS|WHATSAPP_ACCESS_TOKEN|META_APP_SECRET)=(\S+)/g)].map((m) => [m[1]!, m[2]!]))
    expect(Object.keys(env).sort()).toEqual(['MEDIAGATE_ALLOWED_HOSTS', 'META_APP_SECRET', 'META_GRAPH_URL', 'WHATSAPP_ACCESS_TOKEN'])
    const apiKey = randomBytes(24).toString('hex') // $(openssl rand -hex 24)
    const gw: ChildGateway = await startChildGateway({ ...env, MEDIAGATE_API_KEY: apiKey, MEDIAGATE_DATA_DIR: await tempDir() })
    cleanups.push(() => gw.kill('SIGKILL'))
    expect(gw.output()).not.toContain('SANDBOX MODE')

    const sent = (await (await fetch(`${url}/_emulator/send`, { method: 'POST', body: JSON.stringify({ platform: 'whatsapp', kind: 'image', target: `${gw.url}/webhooks/meta` }) })).json()) as { message_id: string; media_id: string; status: number }
    expect(sent.status).toBe(200)
    const auth = { authorization: `Bearer ${apiKey}` }
    const deadline = Date.now() + 60_000
    let record: MediaJson | undefined
    while (Date.now() < deadline) {
      record = ((await (await fetch(`${gw.url}/v1/media?message_id=${encodeURIComponent(sent.message_id)}`, { headers: auth })).json()) as { data: MediaJson[] }).data[0]
      if (record && record.status !== 'pending') break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(record?.status).toBe('stored')

    // Stopped and started again on its directory, with the same port and token: it still knows the media.
    emu.child.kill('SIGTERM')
    await new Promise((r) => emu.child.once('exit', r))
    emu = await startEmulatorCli(['--port', new URL(url).port, '--state-dir', stateDir, '--access-token', env.WHATSAPP_ACCESS_TOKEN!])
    expect(emu.out).toContain(`media kept in ${stateDir}`)
    // On a connection of its own: a kept-alive one would still lead to the emulator before the restart.
    const known = await new Promise<number>((resolve, reject) => get(`${url}/_emulator/media/${sent.media_id}`, { agent: false }, (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject))
    expect(known).toBe(200)
    const fetched = await runCli(['fetch', sent.media_id, '-o', path.join(await tempDir(), 'again.bin')], env)
    expect(fetched.code, fetched.stderr).toBe(0)
  })
})
