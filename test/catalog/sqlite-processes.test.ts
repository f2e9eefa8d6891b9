/**
 * Several processes on one SQLite file (a CLI next to the server, two gateways by mistake):
 * claims must stay exclusive across processes, not only across connections of one process.
 * The children run the real catalog code, transpiled to plain JavaScript for them.
 */
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { newMedia, webhook } from './fixtures.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Everything the catalog imports at run time. */
const SOURCES = ['src/errors.ts', 'src/media', 'src/catalog', 'src/catalog/migrations']

const CHILD = `
import { SqliteCatalog } from './src/catalog/sqlite-catalog.js'
const [file, owner, startAt] = process.argv.slice(2)
const catalog = new SqliteCatalog({ path: file, busyTimeoutMs: 10000 })
while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 5))
const ids = []
for (let round = 0; round < 1000; round++) {
  const batch = await catalog.claim({ owner, limit: 2, leaseMs: 600000, crashLimit: 8 })
  if (batch.length === 0) break
  for (const m of batch) ids.push(m.id)
}
await catalog.close()
process.stdout.write(JSON.stringify(ids))
`

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mediagate-sqlite-procs-'))
  for (const folder of SOURCES) {
    const files = folder.endsWith('.ts') ? [folder] : (await readdir(path.join(ROOT, folder))).filter((f) => f.endsWith('.ts')).map((f) => `${folder}/${f}`)
    for (const file of files) {
      const out = ts.transpileModule(await readFile(path.join(ROOT, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText
      const target = path.join(dir, file.replace(/\.ts$/, '.js'))
      await mkdir(path.dirname(target), { recursive: true })
      await writeFile(target, out)
    }
  }
  await writeFile(path.join(dir, 'package.json'), '{"type":"module"}')
  await writeFile(path.join(dir, 'child.js'), CHILD)
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
})

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

function runChild(file: string, owner: string, startAt: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['child.js', file, owner, String(startAt)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(JSON.parse(out) as string[])
      else reject(new Error(`child ${owner} exited with ${code}: ${err}`))
    })
  })
}

it('three processes claiming from one file never get the same job', async () => {
  const file = path.join(dir, 'shared.db')
  const catalog = new SqliteCatalog({ path: file })
  await catalog.migrate()
  const recorded = await catalog.recordWebhooks(Array.from({ length: 20 }, () => webhook(Array.from({ length: 15 }, (_, i) => newMedia({ attachmentIndex: i })))))
  const all = recorded.flatMap((r) => r.created.map((m) => m.id))
  await catalog.close()
  expect(all).toHaveLength(300)

  const startAt = Date.now() + 1500
  const results = await Promise.all(['p1', 'p2', 'p3'].map((owner) => runChild(file, owner, startAt)))
  const claimed = results.flat()
  expect(claimed).toHaveLength(300)
  expect(new Set(claimed).size).toBe(300)
  expect([...claimed].sort()).toEqual([...all].sort())

  const check = new SqliteCatalog({ path: file })
  try {
    const sample = await check.get(results.find((r) => r.length > 0)![0]!)
    expect(sample?.attempts).toBe(1)
  } finally {
    await check.close()
  }
})
