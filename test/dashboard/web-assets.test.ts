/**
 * The dashboard's browser files as the server finds and serves them: the build output of
 * src/dashboard/web/ (pretest runs `npm run build`), every file the page needs reachable with its
 * content type, compiled JavaScript rather than TypeScript, and a clear error without a build.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { renderIndexHtml } from '../../src/dashboard/assets/index-html.js'
import { loadDashboardAssets, WEB_BUILD_DIR } from '../../src/dashboard/assets/web-assets.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { dashboardRoutes } from '../../src/dashboard/dashboard-routes.js'
import type { MediaJson as BrowserMediaJson, StatsJson as BrowserStatsJson } from '../../src/dashboard/web/types.js'
import { MEDIA_KINDS, MEDIA_STATUSES, PLATFORMS } from '../../src/media/record.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import type { StatsJson } from '../../src/metrics/stats-route.js'
import { DashboardSessions } from '../../src/serve/session-token.js'

const WEB_SOURCE_DIR = 'src/dashboard/web'
let app: FastifyInstance
let base: string
let catalog: SqliteCatalog

beforeAll(async () => {
  catalog = new SqliteCatalog({ path: ':memory:' })
  app = Fastify()
  await app.register(dashboardRoutes, { sessions: new DashboardSessions({ apiKey: 'web-assets-test-key-abcdefghijkl', catalog }) })
  base = await app.listen({ host: '127.0.0.1', port: 0 })
})
afterAll(async () => {
  await app?.close()
  await catalog?.close()
})

const TYPE_BY_EXTENSION: Record<string, RegExp> = { js: /^text\/javascript; charset=utf-8$/, css: /^text\/css; charset=utf-8$/ }
const expectedType = (path: string) => TYPE_BY_EXTENSION[path.split('.').pop()!] ?? /^never$/

/** Same-origin URLs in src= and href= attributes (the icon is a data: URL and stays out). */
const pageReferences = (html: string) => [...html.matchAll(/\s(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]!)
/** Relative specifiers of static `import … from`, bare `import '…'` and `export … from`. */
const moduleImports = (js: string) => [...js.matchAll(/(?:^|\n)\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!)

describe('the files the page needs', () => {
  it('serves everything the index page references, and every module those import, with its content type', async () => {
    const html = await (await fetch(`${base}/`)).text()
    const refs = pageReferences(html)
    expect(refs).toEqual(expect.arrayContaining(['/dashboard/assets/style.css', '/dashboard/assets/app.js']))
    const queue = refs.map((path) => new URL(path, base))
    const seen = new Set<string>()
    while (queue.length > 0) {
      const url = queue.shift()!
      if (seen.has(url.pathname)) continue
      seen.add(url.pathname)
      const res = await fetch(url)
      expect(res.status, url.pathname).toBe(200)
      expect(res.headers.get('content-type'), url.pathname).toMatch(expectedType(url.pathname))
      if (url.pathname.endsWith('.js')) for (const spec of moduleImports(await res.text())) queue.push(new URL(spec, url))
    }
    // The walk reached the whole module graph, not only the entry point.
    expect([...seen].sort()).toEqual(
      ['app', 'api', 'bulk', 'card', 'detail', 'dom', 'events', 'features', 'filters', 'gallery', 'live', 'preview', 'selection', 'stats'].map((name) => `/dashboard/assets/${name}.js`).concat('/dashboard/assets/style.css').sort(),
    )
  })

  it('serves each module as what tsc makes of its TypeScript source, not the source itself', async () => {
    const config = ts.getParsedCommandLineOfConfigFile('tsconfig.web.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => expect.fail(String(d.messageText)) })!
    const modules = Object.keys(loadDashboardAssets().files).filter((name) => name.endsWith('.js'))
    expect(modules).toContain('app.js')
    for (const name of modules) {
      const source = readFileSync(join(WEB_SOURCE_DIR, name.replace(/\.js$/, '.ts')), 'utf8')
      // .mts: on its own, a file cannot tell transpileModule that package.json says "type": "module".
      const compiled = ts.transpileModule(source, { compilerOptions: config.options, fileName: name.replace(/\.js$/, '.mts') }).outputText
      const served = await (await fetch(`${base}/dashboard/assets/${name}`)).text()
      expect(served, name).toBe(compiled)
      expect(served, name).not.toBe(source)
    }
  })

  it('serves the stylesheet exactly as written', async () => {
    const served = await (await fetch(`${base}/dashboard/assets/style.css`)).text()
    expect(served).toBe(readFileSync(join(WEB_SOURCE_DIR, 'style.css'), 'utf8'))
  })

  it('serves nothing else from the build folder, such as the page template itself', async () => {
    expect((await fetch(`${base}/dashboard/assets/index.html`)).status).toBe(404)
    expect((await fetch(`${base}/dashboard/assets/app.ts`)).status).toBe(404)
  })
})

describe('the page', () => {
  it('offers every platform, status and kind of the catalog in the filters', async () => {
    const html = await (await fetch(`${base}/`)).text()
    for (const value of [...PLATFORMS, ...MEDIA_STATUSES, ...MEDIA_KINDS]) expect(html).toContain(`<option value="${value}">${value}</option>`)
    expect(html).not.toContain('<!--options:')
  })

  it('refuses a template that lost or misspelled a marker', () => {
    const template = readFileSync(join(WEB_SOURCE_DIR, 'index.html'), 'utf8')
    expect(() => renderIndexHtml(template.replace('<!--options:kinds-->', ''))).toThrow('<!--options:kinds-->')
    expect(() => renderIndexHtml(`${template}<!--options:colours-->`)).toThrow('unknown marker <!--options:colours-->')
  })
})

describe('without a build', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mediagate-web-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('looks for the build in dist/dashboard/web/ under the package root', () => {
    expect(WEB_BUILD_DIR).toBe(join(process.cwd(), 'dist', 'dashboard', 'web'))
  })

  it('fails with a message that names npm run build', () => {
    expect(() => loadDashboardAssets(join(dir, 'absent'))).toThrow(/index\.html is not in .*absent: run `npm run build`/)
  })

  it('fails when a file the page references is missing', () => {
    writeFileSync(join(dir, 'index.html'), readFileSync(join(WEB_BUILD_DIR, 'index.html')))
    writeFileSync(join(dir, 'style.css'), 'body {}')
    expect(() => loadDashboardAssets(dir)).toThrow(/app\.js is not in .*: run `npm run build`/)
    writeFileSync(join(dir, 'app.js'), 'export {}')
    expect(Object.keys(loadDashboardAssets(dir).files).sort()).toEqual(['app.js', 'style.css'])
  })
})

describe("the browser code's view of the API", () => {
  // Checked by `npm run typecheck` (vitest strips types): a server-side change to these shapes
  // that the browser code does not follow fails the build there.
  it('matches what the server sends', () => {
    expectTypeOf<MediaJson>().toExtend<BrowserMediaJson>()
    expectTypeOf<StatsJson>().toExtend<BrowserStatsJson>()
  })
})
